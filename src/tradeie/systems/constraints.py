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
  D5; "non-tariff" is no tariff), ``memorandum`` ("memorandum of
  understanding" is one head), ``party-prefix`` (hyphenated party names come
  out of a deal or tariff span when one of them is an actor: "Trump-Milei
  trade framework") and ``named-after-place`` (a capital before a deal's
  proper name is a venue inside it: "Kuala Lumpur Peace Accords"; a country
  there is a party: "Canada Agreement");
- *filtering* rules drop ACTOR spans the guidelines rule out: ``place`` (a
  capital after "in", after "went to" and other travel words, or before
  "state" is a place, not a government), ``dateline`` ("BUENOS AIRES, Nov 17"),
  ``demonym`` (an adjective such as "European"), ``title`` (a title or
  office before a name or after "Secretary of": "USTR Jamieson Greer",
  "Secretary of State", "Commerce Secretary", "Senate Majority Leader"),
  ``programme`` (names of partnerships, programmes and laws, and the subject
  words of a deal's title: "Agreement on Reciprocal Trade and Investment"),
  ``pronoun`` and ``region`` ("South America", a continent).

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
#: Verbs and nouns of travel: a capital after "<word> to" is a destination ("a visit to Washington", D3).
TRAVEL_WORDS = frozenset(
    (
        *("go", "goes", "went", "gone", "going", "travel", "travels", "travelled", "traveled", "travelling"),
        *("fly", "flies", "flew", "flown", "return", "returns", "returned", "come", "comes", "came", "head"),
        *("heads", "headed", "visit", "visits", "trip", "trips", "journey", "move", "moved"),
    )
)
#: Continents and world regions: places, never a participant.
CONTINENTS = frozenset(
    ("Africa", "Europe", "Asia", "Oceania", "Latin America", "South America", "North America", "Middle East")
)
#: Heads of formal deal names a venue can open ("Washington Accords"); not "Deal" or "Framework", which a
#: title-case headline uses for any deal ("Washington Trade Deal Talks").
FORMAL_DEAL_HEADS = frozenset(("accord", "accords", "agreement", "agreements", "treaty", "protocol", "declaration"))
#: Month abbreviations, for a dateline's date ("GENEVA, Oct 12").
MONTHS = frozenset(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))
#: Parts of hyphenated compounds that name no party ("Sino-US", "Asia-Pacific").
NOT_PARTY_WORDS = frozenset(
    ("Sino", "Indo", "Franco", "Anglo", "Euro", "Afro", "Pacific", "Atlantic", "Asia", "Africa", "Europe")
)
#: Last words of the names of programmes, partnerships and laws, which are not actors (D3).
PROGRAMME_HEADS = frozenset(
    ("Partnership", "Initiative", "Programme", "Program", "Plan", "Strategy", "Act", "Corridor")
)
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
        "majority",
        "minority",
        "leader",
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
        "Exchange",
        "Administration",
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


PARTY_PREFIX = re.compile(r"([A-Z][\w.]*(?:[-\u2013][A-Z][\w.]*)+)\s+\S")


def party_prefix(ctx: Context, spans: list[Span]) -> list[Span]:
    """Party names are left out of a deal or tariff span ("Trump-Milei trade framework" -> `Trump`, `Milei`,
    `trade framework`) when one of the hyphenated names is a country or an actor found elsewhere in the text."""
    actors = {ctx.text[s:e] for s, e, label in spans if label == "ACTOR"} | ctx.countries
    out = []
    for start, end, label in spans:
        m = PARTY_PREFIX.match(ctx.text, start, end) if label in ("AGREEMENT", "TARIFF") else None
        names = re.split(r"[-\u2013]", m.group(1)) if m else []
        if not m or not any(n in actors for n in names) or any(n in NOT_PARTY_WORDS for n in names):
            out.append((start, end, label))
            continue
        pos = start
        for name in names:
            out.append((pos, pos + len(name), "ACTOR"))
            pos += len(name) + 1
        rest = m.end(1) + len(ctx.text[m.end(1) : end]) - len(ctx.text[m.end(1) : end].lstrip())
        out.append((rest, end, label))
    return sorted(out)


def named_after_place(ctx: Context, spans: list[Span]) -> list[Span]:
    """A capital before a deal's proper name is a venue inside the name ("Kuala Lumpur Peace Accords",
    "Washington Accords"), as "Geneva truce": one AGREEMENT span, no ACTOR."""
    from tradeie.systems.rules import AGREEMENT_HEADS

    out = []
    for start, end, label in sorted(spans):
        text = ctx.text[start:end]
        head = text.rsplit(" ", 1)[-1]
        name = text[: -len(head)].rstrip()
        if label == "ACTOR" and name and head.lower() in AGREEMENT_HEADS and head[:1].isupper():
            if name in ctx.countries:  # a party before the head ("Canada Agreement" -> `Canada`, `Agreement`)
                out += [(start, start + len(name), "ACTOR"), (end - len(head), end, "AGREEMENT")]
                continue
            if name in capitals() and head.lower() in FORMAL_DEAL_HEADS:  # a venue ("Washington Accords")
                label = "AGREEMENT"
        out.append((start, end, label))
    merged: list[Span] = []
    for span in out:
        prev = merged[-1] if merged else None
        if prev is not None and prev[2] == "ACTOR" and span[2] == "AGREEMENT" and ctx.text[prev[1] : span[0]] == " ":
            place, words = ctx.text[prev[0] : prev[1]], ctx.text[span[0] : span[1]].split()
            if (
                place in capitals()
                and place not in ctx.countries
                and all(w[:1].isupper() for w in words)
                and words[-1].lower() in FORMAL_DEAL_HEADS
            ):
                merged[-1] = (prev[0], span[1], "AGREEMENT")
                continue
        merged.append(span)
    return merged


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
    """A capital after "in", after "went to" and other travel words, or before "state" is a place; so is
    a city before "-based" ("a Vienna-based economist"; a country there stays an actor, as in "U.S.-listed")."""
    nxt = [t.text.lower() for t in sent.tokens[j : j + 2]]
    if nxt == ["-", "based"] and surface not in ctx.countries:
        return True
    if surface not in capitals():
        return False
    before = sent.tokens[i - 1].text.lower() if i > 0 else ""
    after = sent.tokens[j].text.lower() if j < len(sent.tokens) else ""
    moved = before == "to" and i > 1 and sent.tokens[i - 2].text.lower() in TRAVEL_WORDS  # "went to Washington"
    return before in PLACE_PREPOSITIONS or after == "state" or moved


def _is_dateline(ctx: Context, sent: Sentence, i: int, j: int, surface: str) -> bool:
    """A dateline ("BUENOS AIRES, Nov 17 (wire) -"): an upper-case place opening a line before a comma (D3)."""
    start = sent.tokens[i].start
    line_start = start == 0 or ctx.text[start - 1] == "\n"
    after = [t.text for t in sent.tokens[j : j + 2]]
    dated = len(after) == 2 and after[1][:3].lower() in MONTHS
    return (
        line_start
        and surface.isupper()
        and after[:1] == [","]
        and surface not in ctx.countries
        and (surface.title() in capitals() or dated)
    )


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


def _is_programme(ctx: Context, sent: Sentence, i: int, j: int, surface: str) -> bool:
    """A programme, partnership or law ("Clean Trade and Investment Partnership"), or the subject words of a
    deal's formal title ("Agreement on Reciprocal Trade and Investment"): no participant."""
    from tradeie.systems.rules import AGREEMENT_HEADS

    words = [t.text for t in sent.tokens]
    if j - i > 1 and words[j - 1] in PROGRAMME_HEADS:
        return True
    return (
        i >= 2
        and words[i - 1] in ("on", "for", "of")
        and words[i - 2][:1].isupper()
        and words[i - 2].lower() in AGREEMENT_HEADS
        and surface not in ctx.countries
    )


def _is_pronoun(ctx: Context, sent: Sentence, i: int, j: int, surface: str) -> bool:
    """A pronoun is never an ACTOR."""
    return all(sent.parsed[k].pos_ == "PRON" for k in range(i, j))


def _is_region(ctx: Context, sent: Sentence, i: int, j: int, surface: str) -> bool:
    """ "America" in "South America" is part of a region; a continent is a region ("sub-Saharan Africa")."""
    if surface in CONTINENTS:
        return True
    return surface == "America" and i > 0 and sent.tokens[i - 1].text.lower() in REGION_PREFIXES


#: Every constraint in the order it runs: completing rules first, then the ACTOR filters.
COMPLETING: dict[str, Rule] = {
    "acronym": acronym,
    "org-name": org_name,
    "hyphen-prefix": hyphen_prefix,
    "memorandum": memorandum,
    "party-prefix": party_prefix,
    "named-after-place": named_after_place,
}
FILTERS: dict[str, Rule] = {
    "place": _actor_filter(_is_place),
    "dateline": _actor_filter(_is_dateline),
    "demonym": _actor_filter(_is_demonym),
    "title": _actor_filter(_is_title),
    "programme": _actor_filter(_is_programme),
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
