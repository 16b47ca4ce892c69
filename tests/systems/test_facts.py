"""Referent resolution and the facts table."""

from __future__ import annotations

import json

from tradeie.facts import canonical_actor, document_facts, resolve_referents, write_facts


def test_canonical_actor_aliases_and_pycountry():
    assert [canonical_actor(x) for x in ("U.S.", "Washington", "America", "Brussels", "Deutschland", "Viet Nam")] == [
        "United States",
        "United States",
        "United States",
        "European Union",
        "Deutschland",
        "Vietnam",
    ]
    assert canonical_actor("Bolivia") == "Bolivia" and canonical_actor("Moscow") == "Russia"


def test_back_references_aliases_and_surnames(make_doc):
    text = (
        "Sergio Gor said the Trade and Economic Partnership Agreement (TEPA) is ready. Gor said the deal "
        "cuts tariffs. The US and Washington agree."
    )
    doc = make_doc(
        "d",
        text,
        [
            ("Sergio Gor", "ACTOR"),
            ("Trade and Economic Partnership Agreement", "AGREEMENT"),
            ("TEPA", "AGREEMENT"),
            ("Gor", "ACTOR"),
            ("deal", "AGREEMENT"),
            ("tariffs", "TARIFF"),
            ("US", "ACTOR"),
            ("Washington", "ACTOR"),
        ],
    )
    refs = resolve_referents(doc)
    assert refs["e1"] == refs["e4"] == "ACTOR:Sergio Gor"
    assert refs["e2"] == refs["e3"] == refs["e5"] == "AGREEMENT:Trade and Economic Partnership Agreement"
    assert refs["e7"] == refs["e8"] == "ACTOR:United States"


def test_facts_collapse_links_of_one_fact_and_write_csv_and_json(tmp_path, make_doc):
    text = "The US imposed tariffs on China. Washington raised the tariffs."
    doc = make_doc(
        "d",
        text,
        [("US", "ACTOR"), ("tariffs", "TARIFF"), ("China", "ACTOR"), ("Washington", "ACTOR"), ("tariffs", "TARIFF")],
        [(1, "imposes", 2), (2, "targets", 3), (4, "imposes", 5)],
    )
    facts = document_facts(doc)
    assert [(f.head, f.relation, f.tail, len(f.mentions)) for f in facts] == [
        ("United States", "imposes", "tariffs", 2),
        ("tariffs", "targets", "China", 1),
    ]
    write_facts([doc], tmp_path / "facts.csv")
    lines = (tmp_path / "facts.csv").read_text().splitlines()
    assert lines[0] == "document_id,head,relation,tail,score,mentions"
    assert (
        lines[1]
        == "d,United States,imposes,tariffs,1.0,US [4:6] -> tariffs [15:22] | Washington [33:43] -> tariffs [55:62]"
    )
    write_facts([doc], tmp_path / "facts.json")
    rows = json.loads((tmp_path / "facts.json").read_text())
    assert rows[1]["mentions"] == [
        {
            "head_text": "tariffs",
            "head_start": 15,
            "head_end": 22,
            "tail_text": "China",
            "tail_start": 26,
            "tail_end": 31,
        }
    ]
