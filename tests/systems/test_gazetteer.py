"""The world gazetteer (countryinfo, pycountry) and spaCy ORG entities as actor matches."""

from __future__ import annotations

from tradeie.systems.gazetteer import AMBIGUOUS_CAPITALS, NOT_COUNTRY_NAMES, capital_names, country_names
from tradeie.systems.rules import RuleMatcher


def test_country_names_have_full_and_inverted_names_but_no_iso_codes():
    names = set(country_names())
    assert {"Democratic Republic of the Congo", "Republic of Korea", "DR Congo", "Congo-Kinshasa", "India"} <= names
    assert not {"CD", "COD", "IND", "KR"} & names
    assert not NOT_COUNTRY_NAMES & names
    assert not any("," in n or "(" in n for n in names)


def test_capitals_come_from_countryinfo_without_the_ambiguous_ones():
    caps = set(capital_names())
    assert {"Kinshasa", "Kigali", "Washington", "Seoul", "Brasília"} <= caps
    assert "Washington D.C." not in caps
    assert not AMBIGUOUS_CAPITALS & caps


def parsed(words, pos, deps, heads, ents, pipeline):
    """A hand-built spaCy Doc in ``pipeline``'s vocabulary: ``heads`` absolute indices, ``ents`` token spans."""
    from spacy.tokens import Doc, Span

    from tradeie.text.linguistic import load_pipeline

    doc = Doc(load_pipeline(pipeline).vocab, words=words, pos=pos, deps=deps, heads=heads)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    return doc


def surfaces(doc, found):
    return [(doc[i:j].text, label) for i, j, label in found]


def test_org_entities_are_actors_without_their_determiner(blank_pipeline):
    words = ["the", "National", "Assembly", "approved", "it"]
    doc = parsed(words, ["DET", "PROPN", "PROPN", "VERB", "PRON"], ["det", "compound", "nsubj", "ROOT", "dobj"],
                 [2, 2, 3, 3, 3], [(0, 3, "ORG")], blank_pipeline)  # fmt: skip
    assert surfaces(doc, RuleMatcher([], blank_pipeline).match(doc)) == [("National Assembly", "ACTOR")]
    assert RuleMatcher([], blank_pipeline, org_actors=False).match(doc) == []


def test_an_org_modifying_a_noun_or_naming_a_deal_is_no_actor(blank_pipeline):
    words = ["under", "the", "KORUS", "trade", "pact"]
    doc = parsed(words, ["ADP", "DET", "PROPN", "NOUN", "NOUN"], ["prep", "det", "compound", "compound", "pobj"],
                 [0, 4, 4, 4, 0], [(2, 3, "ORG")], blank_pipeline)  # fmt: skip
    assert [f for f in RuleMatcher([], blank_pipeline).match(doc) if f[2] == "ACTOR"] == []
    words = ["the", "USMCA", "applies"]
    doc = parsed(words, ["DET", "PROPN", "VERB"], ["det", "nsubj", "ROOT"], [1, 2, 2], [(0, 2, "ORG")], blank_pipeline)
    assert [f for f in RuleMatcher([], blank_pipeline).match(doc) if f[2] == "ACTOR"] == []


def test_a_gazetteer_name_inside_an_org_wins(blank_pipeline):
    words = ["the", "U.S.", "Supreme", "Court", "ruled"]
    doc = parsed(words, ["DET", "PROPN", "PROPN", "PROPN", "VERB"], ["det", "compound", "compound", "nsubj", "ROOT"],
                 [3, 3, 3, 4, 4], [(0, 4, "ORG")], blank_pipeline)  # fmt: skip
    assert surfaces(doc, RuleMatcher(["U.S."], blank_pipeline).match(doc)) == [("U.S.", "ACTOR")]
