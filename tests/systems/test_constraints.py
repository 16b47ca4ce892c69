"""Guideline constraints over hand-built spaCy parses (no pipeline download)."""

from __future__ import annotations

import pytest

from tradeie.errors import TradeieError
from tradeie.systems.constraints import CONSTRAINTS, Context, Sentence, check_names, complete, filter_actors
from tradeie.systems.rules import countries
from tradeie.text.tokens import tokenize


def context(text: str, pos: dict[str, str] | None = None, tags: dict[str, str] | None = None, ents=()) -> Context:
    """One-sentence context: tradeie tokens, a spaCy Doc with the given POS / tags / (start, end, label) entities."""
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

    toks = tokenize(text)
    words = [t.text for t in toks]
    spaces = [a.end < b.start for a, b in zip(toks, toks[1:])] + [False]
    doc = Doc(
        Vocab(),
        words=words,
        spaces=spaces,
        pos=[(pos or {}).get(w, "X") for w in words],
        tags=[(tags or {}).get(w, "NN") for w in words],
    )
    doc.ents = [doc.char_span(text.index(s), text.index(s) + len(s), label=label) for s, label in ents]
    return Context(text, [Sentence(toks, doc)], countries())


def span(text: str, surface: str, label: str, nth: int = 0) -> tuple[int, int, str]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return (start, start + len(surface), label)


def texts(ctx: Context, spans) -> list[tuple[str, str]]:
    return [(ctx.text[s:e], label) for s, e, label in spans]


def test_acronym_in_brackets_is_a_second_mention_with_the_same_label():
    text = "The International Development Finance Corporation (DFC) and the pact (CETA) (note)."
    ctx = context(text)
    spans = [span(text, "International Development Finance Corporation", "ACTOR"), span(text, "pact", "AGREEMENT")]
    assert texts(ctx, complete(ctx, spans, ["acronym"])) == [
        ("International Development Finance Corporation", "ACTOR"),
        ("DFC", "ACTOR"),
        ("pact", "AGREEMENT"),
        ("CETA", "AGREEMENT"),
    ]


def test_org_name_ending_in_an_organisation_word_replaces_the_actors_inside_it():
    text = "The Scotch Whisky Association and UK Steel welcomed it."
    ctx = context(text, ents=[("Scotch Whisky Association", "ORG"), ("UK Steel", "ORG")])
    spans = [span(text, "Scotch", "ACTOR"), span(text, "UK", "ACTOR")]
    assert texts(ctx, complete(ctx, spans, ["org-name"])) == [("Scotch Whisky Association", "ACTOR"), ("UK", "ACTOR")]


def test_hyphen_prefix_widens_tariffs_keeps_parties_out_and_drops_non_tariff():
    text = "tit-for-tat tariffs, US-India deal and non-tariff barriers"
    ctx = context(text)
    spans = [
        span(text, "tat tariffs", "TARIFF"),
        span(text, "US", "ACTOR"),
        span(text, "India", "ACTOR"),
        span(text, "deal", "AGREEMENT"),
        span(text, "tariff", "TARIFF", nth=1),
    ]
    assert texts(ctx, complete(ctx, spans, ["hyphen-prefix"])) == [
        ("tit-for-tat tariffs", "TARIFF"),
        ("US", "ACTOR"),
        ("India", "ACTOR"),
        ("deal", "AGREEMENT"),
    ]


def test_memorandum_of_understanding_is_one_head():
    text = "A memorandum of understanding was signed."
    ctx = context(text)
    assert texts(ctx, complete(ctx, [span(text, "memorandum", "AGREEMENT")], ["memorandum"])) == [
        ("memorandum of understanding", "AGREEMENT")
    ]


def test_capital_after_in_or_before_state_is_a_place_but_a_government_elsewhere():
    text = "Officials in Kyiv and Adam Smith of Washington state said Washington agreed."
    ctx = context(text)
    spans = [span(text, "Kyiv", "ACTOR"), span(text, "Washington", "ACTOR"), span(text, "Washington", "ACTOR", 1)]
    assert texts(ctx, filter_actors(ctx, spans, ["place"])) == [("Washington", "ACTOR")]
    assert filter_actors(ctx, spans, ["place"])[0][0] == text.index("said Washington") + 5


def test_a_city_before_based_is_a_place_but_a_country_stays_an_actor():
    text = "A Vienna-based economist and a U.S.-based fund spoke."
    ctx = context(text)
    spans = [span(text, "Vienna", "ACTOR"), span(text, "U.S.", "ACTOR")]
    assert texts(ctx, filter_actors(ctx, spans, ["place"])) == [("U.S.", "ACTOR")]


def test_demonym_pronoun_region_and_titles_are_not_actors():
    text = "He said European firms, South America, USTR Jamieson Greer, the Secretary of State and Commerce Secretary."
    ctx = context(
        text,
        pos={"He": "PRON"},
        tags={"European": "JJ"},
        ents=[("European", "NORP"), ("Jamieson Greer", "PERSON")],
    )
    spans = [
        span(text, "He", "ACTOR"),
        span(text, "European", "ACTOR"),
        span(text, "America", "ACTOR"),
        span(text, "USTR", "ACTOR"),
        span(text, "Jamieson Greer", "ACTOR"),
        span(text, "State", "ACTOR"),
        span(text, "Commerce", "ACTOR"),
    ]
    assert texts(ctx, filter_actors(ctx, spans, CONSTRAINTS)) == [("Jamieson Greer", "ACTOR")]


def test_party_names_are_split_out_of_a_deal_when_one_is_an_actor_elsewhere():
    text = "The Trump-Milei trade framework and the Alcoa-Sojitz deal: Trump spoke."
    ctx = context(text)
    spans = [
        span(text, "Trump-Milei trade framework", "AGREEMENT"),
        span(text, "Alcoa-Sojitz deal", "AGREEMENT"),
        span(text, "Trump", "ACTOR", 1),
    ]
    assert texts(ctx, complete(ctx, spans, ["party-prefix"])) == [
        ("Trump", "ACTOR"),
        ("Milei", "ACTOR"),
        ("trade framework", "AGREEMENT"),
        ("Alcoa-Sojitz deal", "AGREEMENT"),
        ("Trump", "ACTOR"),
    ]


def test_a_capital_naming_a_deal_is_a_venue_but_a_country_is_a_party():
    text = "the Washington Accords, the Kuala Lumpur Peace Accords and the United States-Mexico-Canada Agreement"
    ctx = context(text)
    spans = [
        span(text, "Washington Accords", "ACTOR"),
        span(text, "Kuala Lumpur", "ACTOR"),
        span(text, "Peace Accords", "AGREEMENT"),
        span(text, "Canada Agreement", "ACTOR"),
    ]
    assert texts(ctx, complete(ctx, spans, ["named-after-place"])) == [
        ("Washington Accords", "AGREEMENT"),
        ("Kuala Lumpur Peace Accords", "AGREEMENT"),
        ("Canada", "ACTOR"),
        ("Agreement", "AGREEMENT"),
    ]


def test_combining_forms_headline_deals_and_bodies_opening_a_line_are_left_alone():
    text = "Asia-Pacific trade pact\nUSTR, the agency, and Asia spoke of the Washington Trade Deal."
    ctx = context(text)
    spans = [
        span(text, "Asia-Pacific trade pact", "AGREEMENT"),
        span(text, "USTR", "ACTOR"),
        span(text, "Asia", "ACTOR", 1),
        span(text, "Washington", "ACTOR", 0),
        span(text, "Trade Deal", "AGREEMENT"),
    ]
    assert complete(ctx, spans, ["party-prefix", "named-after-place"]) == sorted(spans)
    assert span(text, "USTR", "ACTOR") in filter_actors(ctx, spans, ["dateline"])


def test_datelines_destinations_programmes_continents_and_leaders_titles_are_not_actors():
    text = (
        "BUENOS AIRES, Nov 17 - Tau went to Washington, signed a Clean Trade and Investment Partnership and an "
        "Agreement on Reciprocal Trade and Investment for sub-Saharan Africa; Senate Majority Leader John Thune "
        "and Washington spoke."
    )
    ctx = context(text, ents=[("John Thune", "PERSON")])
    names = ["BUENOS AIRES", "Tau", "Washington", "Clean Trade and Investment Partnership"]
    names += ["Reciprocal Trade and Investment", "Africa", "Senate", "John Thune"]
    spans = sorted(span(text, name, "ACTOR") for name in names) + [span(text, "Washington", "ACTOR", 1)]
    assert texts(ctx, filter_actors(ctx, sorted(spans), CONSTRAINTS)) == [
        ("Tau", "ACTOR"),
        ("John Thune", "ACTOR"),
        ("Washington", "ACTOR"),
    ]


def test_country_names_survive_every_filter():
    text = "US Ambassador Sergio Gor met India in New Delhi."
    ctx = context(text, ents=[("Sergio Gor", "PERSON")])
    spans = [span(text, "US", "ACTOR"), span(text, "Sergio Gor", "ACTOR"), span(text, "India", "ACTOR")]
    assert filter_actors(ctx, spans, CONSTRAINTS) == spans


def test_unknown_constraint_names_are_refused():
    with pytest.raises(TradeieError, match="unknown guideline constraint"):
        check_names(["place", "plaec"])
