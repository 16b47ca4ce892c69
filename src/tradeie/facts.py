"""Facts out of predictions: within-document referent resolution and a facts table.

A fact is ``(head referent, relation, tail referent)``: who imposes which
tariff on whom, under which agreement. Predicted mentions are resolved to
referents within their document:

- ACTOR: aliases of one country or bloc ("US", "U.S.", "America",
  "Washington" as a government) share the canonical name; other country
  names go through ``pycountry``; a one-word name that is the first or last
  word of a longer name in the document ("Gor", "Sergio Gor") takes the
  longer name;
- AGREEMENT: an acronym in parentheses right after a named agreement is its
  alias; a bare back-reference ("the deal", "this pact") refers to the
  nearest agreement mentioned before it;
- TARIFF: mentions with the same words are one measure.

The table (CSV or JSON) has one row per fact with the supporting mentions
(text and offsets) and a score (the highest score among its links).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from tradeie.document import Document, Entity
from tradeie.errors import TradeieError
from tradeie.io.atomic import write_text_atomic

#: Canonical name -> aliases (abbreviations, other names, capitals used for the government).
ACTOR_ALIASES: dict[str, tuple[str, ...]] = {
    "United States": ("US", "U.S.", "USA", "U.S.A.", "America", "United States of America", "Washington"),
    "United Kingdom": ("UK", "U.K.", "Britain", "Great Britain", "London"),
    "European Union": ("EU", "E.U.", "Brussels"),
    "India": ("New Delhi", "Delhi"),
    "China": ("Beijing", "People's Republic of China", "PRC"),
    "Japan": ("Tokyo",),
    "Canada": ("Ottawa",),
    "Australia": ("Canberra",),
    "Ukraine": ("Kyiv", "Kiev"),
    "Russia": ("Moscow", "Russian Federation"),
    "Indonesia": ("Jakarta",),
    "South Korea": ("Seoul", "Korea", "Republic of Korea"),
    "Mexico": ("Mexico City",),
    "Switzerland": ("Bern",),
    "Brazil": ("Brasilia", "Brasília"),
    "Germany": ("Berlin",),
    "France": ("Paris",),
}
BACK_REFERENCES = re.compile(
    r"^(agreement|agreements|deal|deals|pact|pacts|accord|treaty|framework|truce|"
    r"arrangement|text|document|memorandum)$",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    index = {}
    for canonical, aliases in ACTOR_ALIASES.items():
        index[canonical.lower()] = canonical
        for alias in aliases:
            index[alias.lower()] = canonical
    return index


def canonical_actor(name: str) -> str:
    """The canonical name of a country/bloc mention, else the mention itself."""
    key = name.strip().lower()
    if key in _alias_index():
        return _alias_index()[key]
    try:
        import pycountry

        country = pycountry.countries.lookup(name.strip())
        return getattr(country, "common_name", None) or country.name
    except LookupError:
        return name.strip()


def resolve_referents(doc: Document) -> dict[str, str]:
    """Entity id -> referent name for the entities of one (predicted) document."""
    ents = sorted(doc.entities, key=lambda e: (e.start, e.end))
    out: dict[str, str] = {}
    actors = [e for e in ents if e.label == "ACTOR"]
    long_names = [e.text for e in actors if len(e.text.split()) > 1]
    for ent in actors:
        name = canonical_actor(ent.text)
        if name == ent.text.strip() and len(ent.text.split()) == 1:
            longer = [n for n in long_names if ent.text in (n.split()[0], n.split()[-1])]
            if len(set(longer)) == 1:
                name = canonical_actor(longer[0])
        out[ent.id] = f"ACTOR:{name}"
    previous: Entity | None = None
    for ent in (e for e in ents if e.label == "AGREEMENT"):
        text = ent.text.strip()
        follows = (
            previous is not None
            and doc.text[previous.end : ent.start].strip() == "("
            and doc.text[ent.end : ent.end + 1] == ")"
        )
        if previous is not None and (BACK_REFERENCES.match(text) or follows):
            out[ent.id] = out[previous.id]
        else:
            out[ent.id] = f"AGREEMENT:{text}"
        if not BACK_REFERENCES.match(text):
            previous = ent
    for ent in (e for e in ents if e.label == "TARIFF"):
        out[ent.id] = f"TARIFF:{' '.join(ent.text.lower().split())}"
    return out


@dataclass
class Fact:
    """One fact of a document with the mentions that support it."""

    document_id: str
    head: str
    relation: str
    tail: str
    score: float
    mentions: list[dict[str, Any]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "head": self.head,
            "relation": self.relation,
            "tail": self.tail,
            "score": round(self.score, 4),
            "mentions": self.mentions,
        }


def _name(referent: str) -> str:
    return referent.split(":", 1)[1]


def document_facts(doc: Document) -> list[Fact]:
    """The facts of one document with predicted (or gold) entities and relations."""
    refs = resolve_referents(doc)
    index = doc.entity_index()
    facts: dict[tuple[str, str, str], Fact] = {}
    for rel in doc.relations:
        if rel.head not in index or rel.tail not in index:
            continue
        key = (refs[rel.head], rel.label, refs[rel.tail])
        head, tail = index[rel.head], index[rel.tail]
        fact = facts.setdefault(key, Fact(doc.id, _name(key[0]), rel.label, _name(key[2]), 0.0))
        fact.score = max(fact.score, 1.0 if rel.score is None else float(rel.score))
        fact.mentions.append(
            {
                "head_text": head.text or doc.text[head.start : head.end],
                "head_start": head.start,
                "head_end": head.end,
                "tail_text": tail.text or doc.text[tail.start : tail.end],
                "tail_start": tail.start,
                "tail_end": tail.end,
            }
        )
    return sorted(facts.values(), key=lambda f: (f.relation, f.head, f.tail))


CSV_COLUMNS = ("document_id", "head", "relation", "tail", "score", "mentions")


def facts_csv(facts: Sequence[Fact]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for fact in facts:
        row = fact.row()
        row["mentions"] = " | ".join(
            f"{m['head_text']} [{m['head_start']}:{m['head_end']}] -> "
            f"{m['tail_text']} [{m['tail_start']}:{m['tail_end']}]"
            for m in fact.mentions
        )
        writer.writerow(row)
    return buf.getvalue()


def write_facts(docs: Sequence[Document], path: str | Path) -> list[Fact]:
    """Write the facts of ``docs`` to ``path`` (``.csv`` or ``.json``, chosen by the suffix)."""
    path = Path(path)
    facts = [f for doc in docs for f in document_facts(doc)]
    if path.suffix.lower() == ".csv":
        write_text_atomic(path, facts_csv(facts))
    elif path.suffix.lower() == ".json":
        write_text_atomic(path, json.dumps([f.row() for f in facts], ensure_ascii=False, indent=2) + "\n")
    else:
        raise TradeieError(f"{path}: unknown facts format {path.suffix!r}", hint="use a .csv or .json file name")
    return facts
