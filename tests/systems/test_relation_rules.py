"""The relation rule system (re-rules) on small hand-written sentences: exact relations predicted."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tradeie.document import Document, make_entity
from tradeie.systems.base import system_class
from tradeie.systems.relations import RelationRulesConfig, RelationRuleSystem

pytestmark = pytest.mark.slow  # loads the real spaCy pipeline (en_core_web_md)


def build(text: str, mentions: list[tuple[str, str]]) -> Document:
    """A document whose entities are ``mentions`` (surface, label), each found left to right; ids are
    the surfaces themselves, suffixed with #2, #3 ... when a surface repeats."""
    ents, pos, count = [], {}, {}
    for surface, label in mentions:
        start = text.index(surface, pos.get(surface, 0))
        pos[surface] = start + len(surface)
        count[surface] = count.get(surface, 0) + 1
        ident = surface if count[surface] == 1 else f"{surface}#{count[surface]}"
        ents.append(make_entity(text, start, start + len(surface), label, ident))
    return Document(id="t", text=text, entities=tuple(ents))


@pytest.fixture(scope="module")
def system() -> RelationRuleSystem:
    return RelationRuleSystem().fit([])


def relations(system: RelationRuleSystem, doc: Document) -> set[tuple[str, str, str]]:
    [out] = system.predict([doc])
    assert out.entities == doc.entities
    return {(r.head, r.label, r.tail) for r in out.relations}


def test_registered_and_configured():
    assert system_class("re-rules") is RelationRuleSystem
    assert RelationRuleSystem.task == "re"
    assert RelationRulesConfig().pipeline == "en_core_web_md"


def test_active_deal_verb_gives_party_to(system):
    doc = build(
        "India and Japan signed a trade pact on Monday.",
        [("India", "ACTOR"), ("Japan", "ACTOR"), ("trade pact", "AGREEMENT")],
    )
    assert relations(system, doc) == {("India", "party_to", "trade pact"), ("Japan", "party_to", "trade pact")}


def test_party_compound_gives_party_to(system):
    doc = build(
        "Officials said the U.S.-India trade deal is ready.",
        [("U.S.", "ACTOR"), ("India", "ACTOR"), ("trade deal", "AGREEMENT")],
    )
    assert relations(system, doc) == {("U.S.", "party_to", "trade deal"), ("India", "party_to", "trade deal")}


def test_passive_agent_imposes(system):
    doc = build(
        "The 25% tariff imposed by Washington hurt exporters.", [("25% tariff", "TARIFF"), ("Washington", "ACTOR")]
    )
    assert relations(system, doc) == {("Washington", "imposes", "25% tariff")}


def test_possessive_imposes(system):
    doc = build("Exporters complain that Japan's tariffs remain high.", [("Japan", "ACTOR"), ("tariffs", "TARIFF")])
    assert relations(system, doc) == {("Japan", "imposes", "tariffs")}


def test_goods_of_actor_targets(system):
    doc = build(
        "Canada raised tariffs on Mexico's cars last year.",
        [("Canada", "ACTOR"), ("tariffs", "TARIFF"), ("Mexico", "ACTOR")],
    )
    assert relations(system, doc) == {("Canada", "imposes", "tariffs"), ("tariffs", "targets", "Mexico")}


def test_list_scope_part_of_across_lines(system):
    text = (
        "Key terms of the pact include:\n"
        "- The EU will cut tariffs on cars to 10%.\n"
        "- Duties on wine fall to zero over five years."
    )
    doc = build(text, [("pact", "AGREEMENT"), ("EU", "ACTOR"), ("tariffs", "TARIFF"), ("Duties", "TARIFF")])
    assert relations(system, doc) == {
        ("tariffs", "part_of", "pact"),
        ("Duties", "part_of", "pact"),
        ("EU", "imposes", "tariffs"),
    }


def test_a_heading_over_bullet_items_scopes_them(system):
    text = (
        "Ecuador framework\n- Washington keeps its 15% tariff on most goods.\n- Quito will scrap its levies.\n"
        "Other news"
    )
    doc = build(
        text,
        [("framework", "AGREEMENT"), ("Washington", "ACTOR"), ("15% tariff", "TARIFF"), ("Quito", "ACTOR"),
         ("levies", "TARIFF")],
    )  # fmt: skip
    assert {(h, label, t) for h, label, t in relations(system, doc) if label == "part_of"} == {
        ("15% tariff", "part_of", "framework"),
        ("levies", "part_of", "framework"),
    }


def test_proposal_is_not_imposes(system):
    doc = build(
        "The European Commission proposed a 50% tariff on steel imports.",
        [("European Commission", "ACTOR"), ("50% tariff", "TARIFF")],
    )
    assert relations(system, doc) == set()


def test_closest_pair_once_per_statement(system):
    doc = build(
        "India and the UK signed a trade agreement (CETA) on Thursday.",
        [("India", "ACTOR"), ("UK", "ACTOR"), ("trade agreement", "AGREEMENT"), ("CETA", "AGREEMENT")],
    )
    doc = doc.with_annotations([e if e.label == "ACTOR" else replace(e, referent="ceta") for e in doc.entities], ())
    assert relations(system, doc) == {("India", "party_to", "trade agreement"), ("UK", "party_to", "trade agreement")}


def test_one_parse_serves_the_rules_and_the_pair_features(system):
    """predict_parsed over parse_documents is predict; the parse merges each entity into one token."""
    from tradeie.systems.relations import parse_documents

    doc = build(
        "Key terms of the pact include:\n- The EU will cut tariffs on cars to 10%.",
        [("pact", "AGREEMENT"), ("EU", "ACTOR"), ("tariffs", "TARIFF")],
    )
    [sents] = parse_documents([doc])
    assert [(s.start, s.end) for s in sents] == [(0, 30), (31, 72)]
    assert [(i, e.id) for s in sents for i, e in sorted(s.ents.items())] == [(4, "pact"), (2, "EU"), (5, "tariffs")]
    assert [s.sdoc[i].text for s in sents for i in sorted(s.ents)] == ["pact", "EU", "tariffs"]
    assert system.predict_parsed([doc], [sents]) == system.predict([doc])


def test_a_deal_that_binds_named_actors_gives_party_to(system):
    doc = build(
        "The accord commits Chile and Peru to a phased opening of their markets.",
        [("accord", "AGREEMENT"), ("Chile", "ACTOR"), ("Peru", "ACTOR")],
    )
    assert relations(system, doc) == {("Chile", "party_to", "accord"), ("Peru", "party_to", "accord")}


def test_a_country_on_a_tariff_with_another_imposer_is_the_target(system):
    doc = build(
        "Trump said he would raise Brazil tariffs to 50% next month.",
        [("Trump", "ACTOR"), ("Brazil", "ACTOR"), ("tariffs", "TARIFF")],
    )
    assert relations(system, doc) == {("Trump", "imposes", "tariffs"), ("tariffs", "targets", "Brazil")}


def test_a_sentence_initial_under_phrase_scopes_every_clause(system):
    doc = build(
        "Under the pact, Ottawa will cut its surtax on steel to 10%; farmers expect more sales; "
        "and Beijing will lower its duties on canola.",
        [("pact", "AGREEMENT"), ("Ottawa", "ACTOR"), ("surtax", "TARIFF"), ("Beijing", "ACTOR"), ("duties", "TARIFF")],
    )
    assert relations(system, doc) == {
        ("Ottawa", "imposes", "surtax"),
        ("surtax", "part_of", "pact"),
        ("Beijing", "imposes", "duties"),
        ("duties", "part_of", "pact"),
    }


def test_names_right_before_a_deal_verb_are_its_subject_when_the_parse_loses_them(system):
    doc = build(
        "Last Friday, in a hall that carries Lincoln's name, Chile and Peru signed the Lima Accord.",
        [("Lincoln", "ACTOR"), ("Chile", "ACTOR"), ("Peru", "ACTOR"), ("Lima Accord", "AGREEMENT")],
    )
    assert relations(system, doc) == {("Chile", "party_to", "Lima Accord"), ("Peru", "party_to", "Lima Accord")}


def test_from_phrase_beside_the_goods_names_the_target(system):
    doc = build(
        "Since May, Ottawa has charged a 20% surtax on most goods from Vietnam and Thailand.",
        [("Ottawa", "ACTOR"), ("20% surtax", "TARIFF"), ("Vietnam", "ACTOR"), ("Thailand", "ACTOR")],
    )
    assert relations(system, doc) == {
        ("Ottawa", "imposes", "20% surtax"),
        ("20% surtax", "targets", "Vietnam"),
        ("20% surtax", "targets", "Thailand"),
    }


def test_a_pronoun_subject_keeps_its_named_conjunct(system):
    doc = build(
        "Carney said he and Premier Li Qiang had reached the deal in Beijing.",
        [("Carney", "ACTOR"), ("Li Qiang", "ACTOR"), ("deal", "AGREEMENT")],
    )
    assert relations(system, doc) == {("Carney", "party_to", "deal"), ("Li Qiang", "party_to", "deal")}


def test_under_each_of_its_deals_gives_part_of(system):
    doc = build(
        "Tokyo cut its duties under each of its deals last year.",
        [("Tokyo", "ACTOR"), ("duties", "TARIFF"), ("deals", "AGREEMENT")],
    )
    assert relations(system, doc) >= {("Tokyo", "imposes", "duties"), ("duties", "part_of", "deals")}
