"""The world gazetteer (countryinfo, pycountry), spaCy ORG entities as actor matches and the head-noun
patterns, on hand-built parses."""

from __future__ import annotations

from tradeie.systems.gazetteer import AMBIGUOUS_CAPITALS, NOT_COUNTRY_NAMES, capital_names, country_names
from tradeie.systems.rules import RuleMatcher


def test_country_names_have_full_and_inverted_names_but_no_iso_codes():
    names = set(country_names())
    assert {"Democratic Republic of the Congo", "Republic of Korea", "DR Congo", "Congo-Kinshasa", "India"} <= names
    assert not {"CD", "COD", "IND", "KR"} & names
    assert not NOT_COUNTRY_NAMES & names
    assert not {"Thai", "Togolese"} & names  # countryinfo lists demonyms among alternative spellings
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


def test_an_organisation_named_after_its_city_keeps_the_city(blank_pipeline):
    words = ["the", "London", "Metal", "Exchange", "fell"]
    doc = parsed(words, ["DET", "PROPN", "PROPN", "PROPN", "VERB"], ["det", "compound", "compound", "nsubj", "ROOT"],
                 [3, 3, 3, 4, 4], [(0, 4, "ORG")], blank_pipeline)  # fmt: skip
    assert surfaces(doc, RuleMatcher(["London"], blank_pipeline).match(doc)) == [("London Metal Exchange", "ACTOR")]


def test_a_body_acronym_modifying_a_noun_is_an_actor_but_a_trade_term_is_not(blank_pipeline):
    words = ["COMEX", "futures", "and", "the", "MFN", "element"]
    doc = parsed(words, ["PROPN", "NOUN", "CCONJ", "DET", "PROPN", "NOUN"],
                 ["compound", "ROOT", "cc", "det", "compound", "conj"], [1, 1, 1, 5, 5, 1],
                 [(0, 1, "ORG"), (4, 5, "ORG")], blank_pipeline)  # fmt: skip
    assert surfaces(doc, RuleMatcher([], blank_pipeline).match(doc)) == [("COMEX", "ACTOR")]


def test_a_possessive_name_joins_the_organisation_after_it(blank_pipeline):
    words = ["the", "National", "Cattlemen", "'s", "Beef", "Association", "objected"]
    doc = parsed(words, ["DET", "PROPN", "PROPN", "PART", "PROPN", "PROPN", "VERB"],
                 ["det", "compound", "poss", "case", "compound", "nsubj", "ROOT"], [2, 2, 5, 2, 5, 6, 6],
                 [(0, 4, "ORG"), (4, 6, "ORG")], blank_pipeline)  # fmt: skip
    assert surfaces(doc, RuleMatcher([], blank_pipeline).match(doc)) == [
        ("National Cattlemen 's Beef Association", "ACTOR")  # hand-built tokens, each followed by a space
    ]


def test_the_partner_of_a_known_actor_in_a_hyphenated_pair_is_an_actor(blank_pipeline):
    from spacy.tokens import Doc, Span

    from tradeie.text.linguistic import load_pipeline

    words = ["the", "Trump", "-", "Milei", "trade", "framework"]
    doc = Doc(load_pipeline(blank_pipeline).vocab, words=words, spaces=[True, False, False, True, True, False],
              pos=["DET", "PROPN", "PUNCT", "PROPN", "NOUN", "NOUN"],
              deps=["det", "compound", "punct", "compound", "compound", "ROOT"], heads=[5, 3, 3, 5, 5, 5])  # fmt: skip
    doc.ents = [Span(doc, 1, 4, label="ORG")]
    assert surfaces(doc, RuleMatcher(["Trump"], blank_pipeline).match(doc)) == [
        ("Trump", "ACTOR"),
        ("Milei", "ACTOR"),
        ("trade framework", "AGREEMENT"),
    ]


def test_deal_patterns_keep_plurals_and_new_but_drop_counts_evaluations_and_negated_deals(blank_pipeline):
    words = ["four", "frameworks", ",", "new", "frameworks", ",", "the", "right", "deal", ",", "no", "trade",
             "agreement", "and", "CAFTA", "-", "DR"]  # fmt: skip
    pos = ["NUM", "NOUN", "PUNCT", "ADJ", "NOUN", "PUNCT", "DET", "ADJ", "NOUN", "PUNCT", "DET", "NOUN", "NOUN",
           "CCONJ", "PROPN", "PUNCT", "PROPN"]  # fmt: skip
    doc = parsed(words, pos, ["dep"] * len(words), list(range(len(words))), [], blank_pipeline)
    assert surfaces(doc, RuleMatcher([], blank_pipeline).match(doc)) == [
        ("frameworks", "AGREEMENT"),
        ("new frameworks", "AGREEMENT"),
        ("deal", "AGREEMENT"),
        ("CAFTA - DR", "AGREEMENT"),
    ]


def test_tariff_patterns_take_rate_ranges_and_leave_a_head_modifying_a_noun(blank_pipeline):
    words = ["final", "duties", "of", "4.9", "%", "to", "19.8", "%", "and", "a", "tariff", "quota", "under",
             "the", "tariff", "push"]  # fmt: skip
    pos = ["ADJ", "NOUN", "ADP", "NUM", "NOUN", "ADP", "NUM", "NOUN", "CCONJ", "DET", "NOUN", "NOUN", "ADP",
           "DET", "NOUN", "NOUN"]  # fmt: skip
    tags = ["JJ", "NNS", "IN", "CD", "NN", "IN", "CD", "NN", "CC", "DT", "NN", "NN", "IN", "DT", "NN", "NN"]
    heads = [1, 1, 1, 4, 2, 1, 7, 5, 1, 11, 11, 1, 11, 15, 15, 12]
    deps = ["amod", "ROOT", "prep", "nummod", "pobj", "prep", "nummod", "pobj", "cc", "det", "compound", "conj",
            "prep", "det", "compound", "pobj"]  # fmt: skip
    doc = parsed(words, pos, deps, heads, [], blank_pipeline)
    for tok, tag in zip(doc, tags):
        tok.tag_ = tag
    assert surfaces(doc, RuleMatcher([], blank_pipeline).match(doc)) == [("final duties of 4.9 % to 19.8 %", "TARIFF")]
