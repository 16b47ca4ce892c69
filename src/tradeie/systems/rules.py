"""Rules from the guidelines as a system and as features: an actor gazetteer and head-noun patterns.

- **ACTOR**: a ``PhraseMatcher`` over a gazetteer of country names (``pycountry``),
  common short names and abbreviations, blocs and bodies, plus the ACTOR
  strings of the training split that are annotated at least ``min_precision``
  of the times they occur; spaCy ORG entities (a possessive name joined to the
  organisation word after it; a body's acronym also as a modifier, "COMEX
  futures"); the other name of a hyphenated pair with a gazetteer actor
  ("Trump-Milei").
- **AGREEMENT**: spaCy ``Matcher`` patterns: pre-modifiers (adjectives,
  nouns, proper nouns, numbers, hyphens; never a determiner, an actor, a
  counting word or a modal adjective) + a deal head noun (plural too) or a
  named deal ("CETA", "CAFTA-DR"); a negated deal ("no trade agreement",
  "not a deal") is none.
- **TARIFF**: pre-modifiers (as above, plus rates such as ``18%`` or
  ``25 per cent``) + a tariff head noun, optionally ``rate`` and an ``of
  NUMBER %`` post-modifier (a range too: "of 4.9% to 19.8%"); a head used as
  a modifier ("tariff relief", "duty-free", "low-tariff beef quota") is not a
  tariff.

Party names are left out of AGREEMENT and TARIFF spans because actor tokens
cannot be pre-modifiers; determiners and possessives are never part of a span.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tradeie.corpus import document_tokens
from tradeie.document import Document
from tradeie.io.atomic import write_json_atomic
from tradeie.text.linguistic import DEFAULT_PIPELINE, parse_sentences
from tradeie.text.tokens import Token, tokenize
from tradeie.systems import gazetteer as world
from tradeie.systems.base import System, with_entities
from tradeie.systems.constraints import (
    GAZETTEER_CAPITALS,
    DEFAULT_CONSTRAINTS,
    NOT_PARTY_WORDS,
    ORG_HEADS,
    TITLE_NOUNS,
    capitals,
    Context,
    Sentence,
    check_names,
    complete,
    filter_actors,
)

AGREEMENT_HEADS = (
    "agreement",
    "agreements",
    "deal",
    "deals",
    "pact",
    "pacts",
    "treaty",
    "treaties",
    "accord",
    "accords",
    "framework",
    "frameworks",  # particular plurals are AGREEMENT ("the four frameworks"); generic ones are not
    "memorandum",
    "memoranda",
    "truce",
    "truces",
    "arrangement",
    "arrangements",
    "protocol",
    "protocols",
    "bargain",  # D18: "bargain" naming a specific deal
    "bargains",
    "undertaking",  # D22: a price undertaking accepted by a trade authority
    "undertakings",
)
AGREEMENT_ACRONYMS = (
    "FTA",
    "FTAs",
    "CETA",
    "TEPA",
    "CEPA",
    "BTA",
    "USMCA",
    "CUSMA",
    "NAFTA",
    "EPA",
    "CPTPP",
    "DCFTA",
    "AUSFTA",
    "ECTA",
    "RCEP",
    "EPD",
    "MoU",
    "MoUs",
    "MOU",
    # further named trade agreements (general knowledge)
    "CAFTA",
    "KORUS",
    "AfCFTA",
    "TPP",
    "TTIP",
    "EVFTA",
    "EVIPA",
    "JEFTA",
    "AANZFTA",
    "ACFTA",
    "ATIGA",
    "SAFTA",
    "GATT",
    "ECFA",
    "UKVFTA",
    "EUSFTA",
    "IPEF",
)
#: Acronyms spaCy often takes for organisations that name no participant: trade terms, statutes, products.
NOT_BODIES = ("MFN", "GDP", "EV", "EVs", "VAT", "GST", "DST", "IEEPA", "GSP", "TRQ", "HS", "FDI", "AGOA", "CBAM")
#: Named trade agreements written as several tokens ("CAFTA-DR").
AGREEMENT_NAMES = ("CAFTA-DR", "CAFTA DR")
TARIFF_HEADS = (
    *("tariff", "tariffs", "duty", "duties", "levy", "levies", "countertariffs"),
    *("surtax", "surtaxes"),  # D18
    *("surcharge", "surcharges"),  # D22
)
#: Words that follow a tariff head when the head is only a modifier ("tariff relief").
TARIFF_MODIFIED = (
    "relief",
    "war",
    "wars",
    "hike",
    "hikes",
    "schedule",
    "schedules",
    "line",
    "lines",
    "quota",
    "quotas",
    "cut",
    "cuts",
    "barrier",
    "barriers",
    "revenue",
    "revenues",
    "policy",
    "policies",
    "regime",
    "truce",
    "threat",
    "threats",
    "exemption",
    "exemptions",
    "talks",
    "dispute",
    "free",
    "classification",
    "codes",
    "increase",
    "increases",
    "reduction",
    "reductions",
    "concessions",
    "pause",
    "escalation",
    "structure",
    "measures",
    "collections",
    "income",
    "ruling",
    "case",
)
#: Pre-modifiers the guidelines leave out (modal, evaluative, quantifying, comparative words).
EXCLUDED_MODIFIERS = (
    "potential",
    "possible",
    "proposed",
    "planned",
    "such",
    "other",
    "own",
    "most",
    "many",
    "some",
    "any",
    "all",
    "several",
    "various",
    "broader",
    "longer",
    "wider",
    "long-delayed",
    "much",
    "more",
    "less",
    "few",
    "first",
    "second",
    "last",
    "latest",
    "previous",
    "recent",
    "same",
    "similar",
    "key",
    "major",
    "big",
    "landmark",
    "historic",
    "current",
    "best",
    "biggest",
    "largest",
    "worst",
    "better",
    "bigger",
    "great",
    "good",
    "bad",
    "right",
    "wrong",
    "lopsided",
)
RATE_WORDS = ("%", "per", "cent", "percent", "percentage")
#: Counting words before a head are quantifiers, not descriptors ("four [deals]", D5).
NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "both")
#: A tariff span holding one of these words is a statistic, not a measure (guidelines, D5).
STATISTIC_WORDS = ("average", "effective", "mean", "weighted")
PREMODIFIER_POS = ("ADJ", "NOUN", "PROPN", "NUM", "VERB")

#: Countries' common short forms and abbreviations, and blocs (beside pycountry's names).
COUNTRY_ALIASES = (
    "US",
    "U.S.",
    "USA",
    "U.S.A.",
    "United States",
    "America",
    "UK",
    "U.K.",
    "Britain",
    "Great Britain",
    "United Kingdom",
    "EU",
    "E.U.",
    "European Union",
    "European Commission",
    "Commission",
    "Russia",
    "China",
    "South Korea",
    "Korea",
    "North Korea",
    "Taiwan",
    "Vietnam",
    "Iran",
    "Syria",
    "Venezuela",
    "Bolivia",
    "Tanzania",
    "Laos",
    "Moldova",
    "Turkey",
    "Türkiye",
    "Czech Republic",
    "Ivory Coast",
    "Congo",
    "DRC",
    "Democratic Republic of Congo",
    "Mercosur",
    "EFTA",
    "ASEAN",
    "Association of Southeast Asian Nations",
    "Quad",
    "WTO",
    "G7",
    "G20",
    "OPEC",
    "NATO",
)
#: Governments' bodies and international organisations.
BODIES = (
    "USTR",
    "White House",
    "State Department",
    "Commerce Department",
    "Congress",
    "Supreme Court",
    "European Parliament",
    "Council",
    "Kremlin",
    "Senate",
    "Treasury",
    "Federal Reserve",
    "FDA",
    "Food and Drug Administration",
    "USDA",
    "Department of Agriculture",
    "Department of Commerce",
    "Commerce Ministry",
    "Ministry of Commerce",
    "Customs and Border Protection",
    "CBP",
    "UN",
    "United Nations",
    "IMF",
    "International Monetary Fund",
    "World Bank",
    "OECD",
    "African Union",
    "European Central Bank",
)
#: The gazetteer's own entries beside pycountry's country names.
EXTRA_ACTORS = (*COUNTRY_ALIASES, *BODIES, *GAZETTEER_CAPITALS)


@dataclass
class RulesConfig:
    """Settings of the rule system (see the module docstring for the rules)."""

    pipeline: str = field(default=DEFAULT_PIPELINE, metadata={"help": "spaCy pipeline for POS, parse and entity types"})
    min_precision: float = field(
        default=0.5,
        metadata={
            "help": "keep a training ACTOR string in the gazetteer if annotated at least this share of its occurrences"
        },
    )
    use_pycountry: bool = field(default=True, metadata={"help": "add pycountry's country names to the gazetteer"})
    use_countryinfo: bool = field(
        default=True,
        metadata={
            "help": "add countryinfo's country names, alternative spellings and capitals to the gazetteer "
            "(tradeie.systems.gazetteer)"
        },
    )
    org_actors: bool = field(
        default=True,
        metadata={"help": "spaCy ORG entities (companies, parties, bodies; determiner trimmed) are ACTOR candidates"},
    )
    labels: tuple[str, ...] = field(
        default=("ACTOR", "AGREEMENT", "TARIFF"), metadata={"help": "labels the rule system predicts"}
    )
    constraints: tuple[str, ...] = field(
        default=DEFAULT_CONSTRAINTS,
        metadata={"help": "guideline constraints applied to the predictions (see tradeie.systems.constraints)"},
    )

    def __post_init__(self) -> None:
        check_names(self.constraints)


def gazetteer_base(config: RulesConfig) -> set[str]:
    """The gazetteer's fixed entries for ``config``: country names, aliases, blocs, bodies and capitals."""
    names = set(EXTRA_ACTORS)
    if config.use_pycountry:
        names |= set(world.pycountry_names())
    if config.use_countryinfo:
        names |= set(world.country_names()) | set(world.capital_names())
    return names


def _hyphen() -> dict:
    return {"ORTH": {"IN": ["-", "\u2013"]}, "OP": "?"}


def premodifier_flags(sdoc, actor_flag: str) -> None:
    """Mark each token that may pre-modify an agreement (``tradeie_amod``) or a tariff (``tradeie_tmod``).

    Excluded words (modal, evaluative, quantifying) qualify only as the first
    part of a hyphenated compound ("most-favoured-nation", "all-inclusive").
    """
    for i, tok in enumerate(sdoc):
        hyphen_next = i + 1 < len(sdoc) and sdoc[i + 1].text in ("-", "\u2013") and not tok.whitespace_
        inner_hyphen = (
            tok.text in ("-", "\u2013")
            and 0 < i < len(sdoc) - 1
            and not tok.whitespace_
            and not sdoc[i - 1].whitespace_
            and not sdoc[i - 1]._.get(actor_flag)
            and not sdoc[i + 1]._.get(actor_flag)
        )
        if inner_hyphen:
            tok._.set("tradeie_amod", True)
            tok._.set("tradeie_tmod", True)
            continue
        allowed = (tok.lower_ not in EXCLUDED_MODIFIERS or hyphen_next) and not tok._.get(actor_flag)
        amod = allowed and tok.pos_ in PREMODIFIER_POS and tok.lower_ not in TARIFF_HEADS
        tmod = (
            allowed
            and (tok.pos_ in (*PREMODIFIER_POS, "SYM", "X") or tok.lower_ in RATE_WORDS)
            and tok.lower_ not in (*TARIFF_HEADS, *AGREEMENT_HEADS)
        )
        tok._.set("tradeie_amod", bool(amod))
        tok._.set("tradeie_tmod", bool(tmod))


class RuleMatcher:
    """Finds gazetteer actors and pattern agreements/tariffs in parsed sentences."""

    ACTOR_FLAG = "tradeie_actor"

    def __init__(self, actors: Sequence[str], pipeline: str = DEFAULT_PIPELINE, org_actors: bool = True) -> None:
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Token as SpacyToken

        from tradeie.text.linguistic import load_pipeline

        for flag in (self.ACTOR_FLAG, "tradeie_amod", "tradeie_tmod"):
            if not SpacyToken.has_extension(flag):
                SpacyToken.set_extension(flag, default=False)
        self.pipeline = pipeline
        self.org_actors = org_actors
        self.actors = tuple(sorted(set(actors)))
        nlp = load_pipeline(pipeline)
        self.phrases = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.phrases.add("ACTOR", [nlp.make_doc(" ".join(t.text for t in tokenize(a))) for a in self.actors])
        self.matcher = Matcher(nlp.vocab)
        mod = {"_": {"tradeie_amod": True}, "OP": "*"}
        rate_mod = {"_": {"tradeie_tmod": True}, "OP": "*"}
        head = {"LOWER": {"IN": list(AGREEMENT_HEADS)}}
        title = {"IS_TITLE": True, "POS": {"NOT_IN": ["DET", "PRON"]}, "_": {self.ACTOR_FLAG: False}, "OP": "+"}
        self.matcher.add(
            "AGREEMENT",
            [
                [mod, head],
                [mod, _hyphen(), mod, head],
                [{"ORTH": {"IN": list(AGREEMENT_ACRONYMS)}}],
                *([{"ORTH": t.text} for t in tokenize(name)] for name in AGREEMENT_NAMES),
                [title, {"LOWER": "and"}, title, {"LOWER": {"IN": list(AGREEMENT_HEADS)}, "IS_TITLE": True}],
            ],
            greedy="LONGEST",
        )
        t_head = {"LOWER": {"IN": list(TARIFF_HEADS)}}
        of_rate = [
            {"LOWER": "of"},
            {"LOWER": {"IN": ["up", "about", "around", "nearly", "almost"]}, "OP": "?"},
            {"LOWER": "to", "OP": "?"},
            {"LIKE_NUM": True},
            {"ORTH": "%", "OP": "?"},  # "of 4.9% to 19.8%"
            {"LOWER": {"IN": ["to", "and", "-", "\u2013"]}, "OP": "?"},
            {"LIKE_NUM": True, "OP": "?"},
        ]
        self.matcher.add(
            "TARIFF",
            [
                [rate_mod, t_head],
                [rate_mod, _hyphen(), rate_mod, t_head],
                [rate_mod, t_head, {"LOWER": {"IN": ["rate", "rates"]}}],
                [rate_mod, t_head, {"LOWER": {"IN": ["rate", "rates"]}, "OP": "?"}, *of_rate, {"ORTH": "%"}],
                [
                    rate_mod,
                    t_head,
                    {"LOWER": {"IN": ["rate", "rates"]}, "OP": "?"},
                    *of_rate,
                    {"LOWER": {"IN": ["percent", "pc"]}},
                ],
                [
                    rate_mod,
                    t_head,
                    {"LOWER": {"IN": ["rate", "rates"]}, "OP": "?"},
                    *of_rate,
                    {"LOWER": "per"},
                    {"LOWER": "cent"},
                ],
            ],
            greedy="LONGEST",
        )

    def match(self, sdoc) -> list[tuple[int, int, str]]:
        """Token-index spans ``(i, j, label)`` (``j`` exclusive) in one parsed sentence."""
        from spacy.util import filter_spans

        persons = [_trim_name(sdoc[e.start : e.end]) for e in sdoc.ents if e.label_ == "PERSON"]
        persons = [p for p in persons if len(p)]
        gazetteer = [sdoc[s:e] for _, s, e in self.phrases(sdoc)]
        gazetteer += _hyphen_partners(sdoc, gazetteer)
        if self.org_actors:
            for org in (_org_name(span) for span in _org_entities(sdoc)):
                inside = [g for g in gazetteer if g.start < org.end and org.start < g.end] if org else []
                if org and inside and _named_after_city(org, inside):
                    gazetteer = [g for g in gazetteer if g not in inside]
                    inside = []
                if org and not inside:  # an ORG never overrides a country inside it ("U.S." + "Supreme Court")
                    persons.append(org)
        actor_spans = filter_spans(gazetteer + persons)
        for tok in sdoc:
            tok._.set(self.ACTOR_FLAG, False)
        for span in actor_spans:
            for tok in span:
                tok._.set(self.ACTOR_FLAG, True)
        premodifier_flags(sdoc, self.ACTOR_FLAG)
        found = [(s.start, s.end, "ACTOR") for s in actor_spans]
        candidates = []
        for match_id, s, e in self.matcher(sdoc):
            label = sdoc.vocab.strings[match_id]
            span = self._trim(sdoc, s, e, label)
            if span is not None:
                candidates.append(sdoc[span[0] : span[1]])
                candidates[-1].label_ = label
        for span in filter_spans(candidates):
            found.append((span.start, span.end, span.label_))
        return sorted(found)

    @staticmethod
    def _trim(sdoc, s: int, e: int, label: str) -> tuple[int, int] | None:
        while s < e and (
            sdoc[s].is_punct
            or sdoc[s].pos_ == "VERB"
            or (sdoc[s].lower_ in NUMBER_WORDS and not (s + 1 < e and sdoc[s + 1].text in ("-", "\u2013")))
            or (
                sdoc[s].lower_ in EXCLUDED_MODIFIERS
                and not sdoc[s]._.get("tradeie_tmod" if label == "TARIFF" else "tradeie_amod")
            )
        ):
            s += 1
        if s >= e:
            return None
        last = sdoc[e - 1]
        if label == "TARIFF" and last.lower_ in TARIFF_HEADS and e < len(sdoc):
            nxt = sdoc[e]
            after = sdoc[e + 1] if e + 1 < len(sdoc) else None
            if nxt.lower_ in TARIFF_MODIFIED or (
                nxt.text in "-\u2013" and after is not None and after.lower_ in (*TARIFF_MODIFIED, "rate", "free")
            ):
                return None
        if (
            label == "TARIFF"
            and last.lower_ in TARIFF_HEADS
            and last.dep_ == "compound"
            and last.head.i > last.i
            and last.head.tag_ == "NN"
            and last.head.lower_ not in (*TARIFF_HEADS, "rate")
        ):
            return None  # a head that modifies a later noun ("low-tariff beef quota", "tariff push"); a plural
            # there is often a verb the parser took for a noun ("50% tariff spares cathodes")
        if label == "AGREEMENT" and _negated(sdoc, s):
            return None
        if label == "TARIFF" and s > 0 and sdoc[s - 1].text in "-\u2013" and s > 1 and sdoc[s - 2].lower_ == "non":
            return None
        if label == "TARIFF" and any(t.lower_ in STATISTIC_WORDS for t in sdoc[max(0, s - 3) : e]):
            return None
        if (
            label == "AGREEMENT"
            and last.is_lower
            and last.dep_ == "compound"
            and last.head.i > last.i
            and last.head.lower_ not in AGREEMENT_HEADS
            and e < len(sdoc)
            and sdoc[e].pos_ == "NOUN"
        ):
            return None
        return s, e


def _hyphen_partners(sdoc, gazetteer) -> list:
    """The other name in a hyphenated pair whose one side is a gazetteer actor ("Trump-Milei trade framework"
    -> "Milei"): party names are split like country compounds. Only a capitalised word spaCy puts in an entity."""
    found = []
    starts = {g.start for g in gazetteer}
    ends = {g.end for g in gazetteer}
    for tok in sdoc[1:-1]:
        if tok.text not in ("-", "\u2013") or tok.whitespace_ or sdoc[tok.i - 1].whitespace_:
            continue
        left, right = sdoc[tok.i - 1], sdoc[tok.i + 1]
        for known, other in ((tok.i in ends, right), (tok.i + 1 in starts, left)):
            if (
                known
                and other.i not in starts
                and other.i + 1 not in ends
                and other.is_title
                and other.pos_ == "PROPN"
                and other.ent_type_
                and other.text not in NOT_PARTY_WORDS
            ):
                found.append(sdoc[other.i : other.i + 1])
    return found


def _org_entities(sdoc) -> list:
    """spaCy's ORG entities, with a possessive name joined to the organisation word after it
    ("National Cattlemen's" + "Beef Association" -> one name)."""
    orgs = [e for e in sdoc.ents if e.label_ == "ORG"]
    out = []
    for ent in orgs:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.end == ent.start
            and prev[-1].lower_ in ("'s", "\u2019s")
            and ent[-1].text in ORG_HEADS
        ):
            out[-1] = sdoc[prev.start : ent.end]
        else:
            out.append(sdoc[ent.start : ent.end])
    return out


def _named_after_city(org, inside) -> bool:
    """An organisation named after its city ("London Metal Exchange"): the capital starts the name, which
    ends in an organisation word; a country inside stays its own actor ("U.S. Supreme Court")."""
    return (
        org[-1].text in ORG_HEADS
        and len(inside) == 1
        and inside[0].start == org.start
        and inside[0].end < org.end
        and inside[0].text in capitals()
        and inside[0].text not in countries()
    )


def _negated(sdoc, s: int) -> bool:
    """A negated or absent deal ("no trade agreement", "not a deal", "without a trade deal"): no span."""
    before = [t.lower_ for t in sdoc[max(0, s - 2) : s]]
    if before[-1:] == ["no"]:
        return True
    return len(before) == 2 and before[1] in ("a", "an") and before[0] in ("not", "without", "no", "never")


def _trim_name(span):
    """A person-name span without a trailing possessive or punctuation ("Trump's" -> "Trump")."""
    end = span.end
    while end > span.start and (span.doc[end - 1].is_punct or span.doc[end - 1].lower_ in ("'s", "\u2019s", "'")):
        end -= 1
    return span.doc[span.start : end]


def _org_name(span):
    """An ORG entity as an actor name ("the National Assembly" -> "National Assembly"), or None where it
    names a deal or a tariff ("USMCA", "Trade Agreement"), modifies a noun outside it ("KORUS free trade
    agreement", "MFN tariffs", "State Secretary") or has no capitalised word."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and (doc[start].pos_ in ("DET", "ADV", "ADP", "CCONJ") or doc[start].is_punct):
        start += 1
    while end > start and (
        doc[end - 1].is_punct or doc[end - 1].like_num or doc[end - 1].lower_ in ("'s", "\u2019s", "'", "%")
    ):
        end -= 1  # "Geely 18.8%" -> "Geely"
    words = doc[start:end]
    if not len(words) or not any(t.text[:1].isupper() for t in words):
        return None
    if any(t.lower_ in AGREEMENT_HEADS or t.lower_ in TARIFF_HEADS or t.text in AGREEMENT_ACRONYMS for t in words):
        return None
    if words.text in AGREEMENT_NAMES or words.text.replace(" - ", "-") in AGREEMENT_NAMES:
        return None
    last = words[-1]
    if last.dep_ in ("compound", "amod", "nmod") and not start <= last.head.i < end and not _acronym_modifier(words):
        return None
    return words


def _acronym_modifier(words) -> bool:
    """A named body's acronym used as a modifier ("COMEX futures", "FDA certificates"; D3), not of a deal,
    a tariff or a title ("KORUS free trade agreement", "MFN tariffs", "USTR official")."""
    head = words[-1].head.lower_
    return (
        len(words) == 1
        and words[0].text not in NOT_BODIES
        and len(words[0].text) >= 2
        and words[0].text.isupper()
        and head not in (*AGREEMENT_HEADS, *TARIFF_HEADS, *TARIFF_MODIFIED, *TITLE_NOUNS, "official", "officials")
    )


def propagate_actors(
    text: str, sentences: Sequence[Sequence[Token]], spans: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """One sense per document: other occurrences of a predicted ACTOR string (and the first and last
    word of a multi-word name, "Xi Jinping" -> "Xi", "Jinping") become ACTOR where nothing is predicted."""
    names: set[tuple[str, ...]] = set()
    for start, end, label in spans:
        if label != "ACTOR":
            continue
        words = tuple(t.text for t in tokenize(text[start:end]))
        names.add(words)
        if len(words) > 1 and all(w[:1].isupper() and w.isalpha() for w in words):
            names.update({(words[0],), (words[-1],)})
    if not names:
        return spans
    taken = [(s, e) for s, e, _ in spans]
    out = list(spans)
    longest = max(len(n) for n in names)
    for toks in sentences:
        words = [t.text for t in toks]
        i = 0
        while i < len(words):
            for n in range(min(longest, len(words) - i), 0, -1):
                if tuple(words[i : i + n]) in names:
                    s, e = toks[i].start, toks[i + n - 1].end
                    if all(e <= a or s >= b for a, b in taken):
                        out.append((s, e, "ACTOR"))
                        taken.append((s, e))
                    i += n - 1
                    break
            i += 1
    return sorted(out)


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """Country names, their short forms and blocs: never a title, a demonym or a place."""
    return frozenset(world.pycountry_names()) | frozenset(world.country_names()) | frozenset(COUNTRY_ALIASES)


def finish_spans(
    text: str,
    sentences: Sequence[Sentence],
    spans: list[tuple[int, int, str]],
    constraints: Sequence[str],
    propagate: bool,
) -> list[tuple[int, int, str]]:
    """A document's final spans: completing constraints, actor propagation, then the actor filters."""
    ctx = Context(text, sentences, countries())
    spans = complete(ctx, spans, constraints)
    if propagate:
        spans = propagate_actors(text, [s.tokens for s in sentences], spans)
    return filter_actors(ctx, spans, constraints)


def training_actors(train: Sequence[Document], min_precision: float) -> list[str]:
    """ACTOR strings of ``train`` annotated at least ``min_precision`` of the times they occur
    (the ACTOR entries of the gazetteer baseline fitted on ``train``)."""
    from tradeie.training.baselines import GazetteerBaseline

    gazetteer = GazetteerBaseline.fit(train, min_precision)
    return [" ".join(key) for key, (label, _) in gazetteer.entries.items() if label == "ACTOR"]


def token_spans_to_chars(toks: Sequence[Token], spans: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    return [(toks[i].start, toks[j - 1].end, label) for i, j, label in spans]


class RuleSystem(System):
    """The rules as an NER system: gazetteer ACTOR + pattern AGREEMENT/TARIFF."""

    name = "rules"
    config_class = RulesConfig

    def __init__(self, config: RulesConfig | None = None) -> None:
        super().__init__(config)
        self.actors: list[str] = []
        self._matcher: RuleMatcher | None = None

    def fit(self, train: Sequence[Document], dev: Sequence[Document] | None = None) -> RuleSystem:
        self.actors = sorted(gazetteer_base(self.config) | set(training_actors(train, self.config.min_precision)))
        self._matcher = None
        self.n_train = len(train)
        return self

    @property
    def matcher(self) -> RuleMatcher:
        if self._matcher is None:
            self._matcher = RuleMatcher(self.actors, self.config.pipeline, self.config.org_actors)
        return self._matcher

    def match_sentences(self, sentences: Sequence[Sequence[Token]], parsed=None) -> list[list[tuple[int, int, str]]]:
        """Token-index rule spans per sentence (``parsed``: the sentences' spaCy Docs, if already parsed)."""
        parsed = parsed if parsed is not None else parse_sentences(sentences, self.config.pipeline)
        return [self.matcher.match(sdoc) for sdoc in parsed]

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        units = [(d, toks) for d, doc in enumerate(docs) for toks in document_tokens(doc.with_annotations(())) if toks]
        parsed = parse_sentences([toks for _, toks in units], self.config.pipeline)
        matches = self.match_sentences([toks for _, toks in units], parsed)
        spans: list[list[tuple[int, int, str]]] = [[] for _ in docs]
        for (d, toks), found in zip(units, matches):
            spans[d] += [s for s in token_spans_to_chars(toks, found) if s[2] in self.config.labels]
        out = []
        for d, doc in enumerate(docs):
            sentences = [Sentence(toks, sdoc) for (k, toks), sdoc in zip(units, parsed) if k == d]
            found = finish_spans(
                doc.text, sentences, spans[d], self.config.constraints, propagate="ACTOR" in self.config.labels
            )
            out.append(with_entities(doc, [s for s in found if s[2] in self.config.labels]))
        return out

    def _save_state(self, folder: Path) -> None:
        write_json_atomic(folder / "gazetteer.json", {"actors": self.actors})

    def _load_state(self, folder: Path) -> None:
        self.actors = json.loads((folder / "gazetteer.json").read_text(encoding="utf-8"))["actors"]
