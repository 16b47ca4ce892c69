"""Guideline constraints: span decisions from ``annotations/GUIDELINES.md`` applied after any NER system.

Each constraint is one named rule over a document's parsed sentences and its
predicted character spans; a system applies the ones its config lists, in
the order of :data:`CONSTRAINTS`. Two kinds:

- *completing* rules add or widen spans the guidelines imply:
  ``acronym`` (an acronym in brackets after a mention is a second mention of
  the same label, "(DFC)", D3 and the alias rule), ``org-name`` (a named
  body whose name ends in an organisation head word, "Scotch Whisky
  Association", D3), ``hyphen-prefix`` (the first parts of a hyphenated
  pre-modifier stay in a TARIFF or AGREEMENT span, "tit-for-tat tariffs",
  D5; "non-tariff" is no tariff) and ``memorandum`` ("memorandum of
  understanding" is one head);
- *filtering* rules drop ACTOR spans the guidelines rule out: ``place`` (a
  capital after "in" or before "state" is a place, not a government),
  ``demonym`` (an adjective such as "European"), ``title`` (a title or
  office before a name or after "Secretary of": "USTR Jamieson Greer",
  "Secretary of State", "Commerce Secretary"), ``pronoun`` and ``region``
  ("South America").

Filters run after actor propagation, so a place is never re-added by the
one-sense-per-document rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from tradeie.text.tokens import Token

Span = tuple[int, int, str]

#: Capitals in the actor gazetteer (ACTOR where they stand for a government).
GAZETTEER_CAPITALS = (
    "Beijing",
    "Washington",
    "New Delhi",
    "Tokyo",
    "Brussels",
    "London",
    "Ottawa",
    "Canberra",
    "Seoul",
    "Kyiv",
    "Jakarta",
    "Moscow",
    "Paris",
    "Berlin",
    "Brasilia",
    "Brasília",
    "Mexico City",
    "Bern",
    "Oslo",
)
#: Capitals and seats of government: ACTOR only when they stand for a government (guidelines, D3).
CAPITALS = frozenset(GAZETTEER_CAPITALS) | frozenset(
    (
        "Delhi",
        "Kiev",
        "Geneva",
        "Wellington",
        "Pretoria",
        "Kinshasa",
        "Kigali",
        "Hanoi",
        "Riyadh",
        "Ankara",
        "Rome",
        "Madrid",
        "Buenos Aires",
        "Santiago",
        "Lima",
        "Bogota",
        "Bogotá",
        "Taipei",
        "Manila",
        "Bangkok",
        "Islamabad",
        "Dhaka",
        "Nairobi",
        "Abuja",
        "Cairo",
    )
)


@lru_cache(maxsize=1)
def capitals() -> frozenset[str]:
    """:data:`CAPITALS` and countryinfo's capitals (:func:`tradeie.systems.gazetteer.capital_names`)."""
    from tradeie.systems.gazetteer import capital_names

    return CAPITALS | frozenset(capital_names())


#: Words after which a capital is a place ("officials in Kyiv", "signed in Washington").
PLACE_PREPOSITIONS = frozenset(("in",))
#: Offices and titles: an ACTOR right before one of these (and not a country) is part of a title.
TITLE_NOUNS = frozenset(
    (
        "secretary",
        "minister",
        "ministers",
        "ambassador",
        "representative",
        "commissioner",
        "envoy",
        "chancellor",
        "spokesperson",
        "spokesman",
        "spokeswoman",
        "adviser",
        "advisor",
        "undersecretary",
    )
)
REGION_PREFIXES = frozenset(("south", "latin", "central", "north", "southeast", "east", "west"))
#: Last words of the names of bodies, associations, companies and legislatures (D3).
ORG_HEADS = frozenset(
    (
        "Association",
        "Associations",
        "Corporation",
        "Fund",
        "Agency",
        "Council",
        "Bank",
        "Rada",
        "Parliament",
        "Ministry",
        "Commission",
        "Court",
        "Institute",
        "Organization",
        "Organisation",
        "Office",
        "Department",
        "Committee",
        "Authority",
        "Federation",
        "Chamber",
        "Bureau",
        "Board",
        "Confederation",
        "Union",
        "Forum",
        "Group",
        "Inc.",
        "Ltd",
        "Ltd.",
        "Company",
        "Corp.",
        "Congress",
        "Senate",
        "Assembly",
    )
)
ACRONYM = re.compile(r"[A-Z][A-Za-z&.]{1,7}")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document: tradeie's tokens and spaCy's parse of the same tokens."""

    tokens: Sequence[Token]
    parsed: object  # a spacy.tokens.Doc aligned 1:1 with ``tokens``


@dataclass(frozen=True)
class Context:
    """What a constraint may look at: the text, its parsed sentences and the country names."""

    text: str
    sentences: Sequence[Sentence]
    countries: frozenset[str]

    def locate(self, start: int, end: int) -> tuple[Sentence, int, int] | None:
        """The sentence and token indices ``[i, j)`` of a character span (None if off the tokens)."""
        for sent in self.sentences:
            toks = sent.tokens
            if not toks or start < toks[0].start or end > toks[-1].end:
                continue
            i = next((k for k, t in enumerate(toks) if t.start == start), None)
            j = next((k + 1 for k, t in enumerate(toks) if t.end == end), None)
            if i is not None and j is not None and i < j:
                return sent, i, j
            return None
        return None


Rule = Callable[[Context, list[Span]], list[Span]]


def _overlaps(a: Span, spans: Sequence[Span]) -> bool:
    return any(a[0] < b[1] and b[0] < a[1] for b in spans if b is not a)


def acronym(ctx: Context, spans: list[Span]) -> list[Span]:
    """``NAME (ACR)``: the bracketed acronym is a mention with NAME's label."""
    out = list(spans)
    for start, end, label in spans:
        if label not in ("ACTOR", "AGREEMENT"):
            continue
        m = re.match(r"\s*\(([^()\s]{2,8})\)", ctx.text[end : end + 12])
        if not m or not ACRONYM.fullmatch(m.group(1)) or sum(c.isupper() for c in m.group(1)) < 2:
            continue
        new = (end + m.start(1), end + m.end(1), label)
        if not _overlaps(new, out):
            out.append(new)
    return sorted(out)


def org_name(ctx: Context, spans: list[Span]) -> list[Span]:
    """A spaCy ORG entity ending in an organisation head word is one ACTOR (replacing actors inside it)."""
    out = list(spans)
    for sent in ctx.sentences:
        for ent in sent.parsed.ents:
            if ent.label_ != "ORG" or ent[-1].text not in ORG_HEADS or len(ent) < 2:
                continue
            first = next((k for k in range(ent.start, ent.end) if ent.doc[k].pos_ not in ("DET",)), ent.end)
            if first >= ent.end - 1:
                continue
            start, end = sent.tokens[first].start, sent.tokens[ent.end - 1].end
            inside = [s for s in out if s[0] >= start and s[1] <= end]
            crossing = [s for s in out if s[0] < end and start < s[1] and s not in inside]
            if crossing or any(s[2] != "ACTOR" for s in inside):
                continue
            out = [s for s in out if s not in inside] + [(start, end, "ACTOR")]
    return sorted(out)


def hyphen_prefix(ctx: Context, spans: list[Span]) -> list[Span]:
    """Widen a TARIFF/AGREEMENT span that starts inside a hyphenated word to the word's start,
    unless an ACTOR sits in that prefix (party names stay out); drop "non-tariff"."""
    text = ctx.text
    out = []
    for start, end, label in spans:
        if (
            label in ("TARIFF", "AGREEMENT")
            and start > 1
            and text[start - 1] in "-\u2011"
            and text[start - 2].isalnum()
        ):
            word_start = start - 1
            while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in "\"'(“‘":
                word_start -= 1
            prefix = text[word_start : start - 1]
            if label == "TARIFF" and prefix.lower() == "non":
                continue
            if not any(s[2] == "ACTOR" and s[0] < start and s[1] > word_start for s in spans):
                start = word_start
        out.append((start, end, label))
    return sorted(out)


def memorandum(ctx: Context, spans: list[Span]) -> list[Span]:
    """ "memorandum of understanding" is one AGREEMENT head."""
    out = []
    for start, end, label in spans:
        if label == "AGREEMENT" and ctx.text[start:end].lower().endswith(("memorandum", "memoranda")):
            m = re.match(r"\s+of\s+understanding\b", ctx.text[end : end + 24], re.IGNORECASE)
            if m:
                end += m.end()
        out.append((start, end, label))
    return out


def _actor_filter(test: Callable[[Context, Sentence, int, int, str], bool]) -> Rule:
    def rule(ctx: Context, spans: list[Span]) -> list[Span]:
        out = []
        for span in spans:
            start, end, label = span
            where = ctx.locate(start, end) if label == "ACTOR" else None
            if where is not None and test(ctx, where[0], where[1], where[2], ctx.text[start:end]):
                continue
            out.append(span)
        return out

    rule.__doc__ = test.__doc__
    return rule


def _is_place(ctx: Context, sent: Sentence, i: int, j: int, surface: str) -> bool:
    """A capital after "in" or before "state" is a place; so is a city before "-based" ("a Vienna-based
    economist"; a country there stays an actor, as in "U.S.-listed")."""
    nxt = [t.text.lower() for t in sent.tokens[j : j + 2]]
    if nxt == ["-", "based"] and surface not in ctx.countries:
        return True
    if surface not in capitals():
        return False
    before = sent.tokens[i - 1].text.lower() if i > 0 else ""
    after = sent.tokens[j].text.lower() if j < len(sent.tokens) else ""
    return before in PLACE_PREPOSITIONS or after == "state"


def _is_demonym(ctx: Context, sent: Sentence, i: int, j: int, surface: str) -> bool:
    """A one-word adjective naming a nationality ("European companies")."""
    tok = sent.parsed[i]
    return j - i == 1 and tok.tag_ == "JJ" and tok.ent_type_ == "NORP" and surface not in ctx.countries


def _is_title(ctx: Context, sent: Sentence, i: int, j: int, surface: str) -> bool:
    """An office, not a participant: before a person's name or a title noun, or after "Secretary of"."""
    if surface in ctx.countries or surface in capitals():
        return False
    words = [t.text for t in sent.tokens]
    if i >= 2 and words[i - 1].lower() == "of" and words[i - 2].lower() in TITLE_NOUNS:
        return True
    if j < len(words) and words[j].lower() in TITLE_NOUNS and j - i == 1:
        return True
    nxt = sent.parsed[j] if j < len(sent.parsed) else None
    return bool(nxt is not None and nxt.ent_type_ == "PERSON" and nxt.ent_iob_ == "B" and surface.isupper())


def _is_pronoun(ctx: Context, sent: Sentence, i: int, j: int, surface: str) -> bool:
    """A pronoun is never an ACTOR."""
    return all(sent.parsed[k].pos_ == "PRON" for k in range(i, j))


def _is_region(ctx: Context, sent: Sentence, i: int, j: int, surface: str) -> bool:
    """ "America" in "South America" is part of a region."""
    return surface == "America" and i > 0 and sent.tokens[i - 1].text.lower() in REGION_PREFIXES


#: Every constraint in the order it runs: completing rules first, then the ACTOR filters.
COMPLETING: dict[str, Rule] = {
    "acronym": acronym,
    "org-name": org_name,
    "hyphen-prefix": hyphen_prefix,
    "memorandum": memorandum,
}
FILTERS: dict[str, Rule] = {
    "place": _actor_filter(_is_place),
    "demonym": _actor_filter(_is_demonym),
    "title": _actor_filter(_is_title),
    "pronoun": _actor_filter(_is_pronoun),
    "region": _actor_filter(_is_region),
}
CONSTRAINTS: tuple[str, ...] = (*COMPLETING, *FILTERS)
#: The constraints systems apply by default: every one that raised the development score
#: (``org-name`` lowered it: validation strict F1 0.9638 -> 0.9595, so it is off; see the README).
DEFAULT_CONSTRAINTS: tuple[str, ...] = tuple(c for c in CONSTRAINTS if c != "org-name")


def check_names(names: Sequence[str]) -> None:
    from tradeie.errors import TradeieError

    unknown = [n for n in names if n not in CONSTRAINTS]
    if unknown:
        raise TradeieError(
            f"unknown guideline constraint(s): {', '.join(unknown)}", hint=f"choose from {', '.join(CONSTRAINTS)}"
        )


def complete(ctx: Context, spans: list[Span], names: Sequence[str]) -> list[Span]:
    """Apply the completing rules among ``names``."""
    for name, rule in COMPLETING.items():
        if name in names:
            spans = rule(ctx, spans)
    return spans


def filter_actors(ctx: Context, spans: list[Span], names: Sequence[str]) -> list[Span]:
    """Apply the filtering rules among ``names``."""
    for name, rule in FILTERS.items():
        if name in names:
            spans = rule(ctx, spans)
    return spans
