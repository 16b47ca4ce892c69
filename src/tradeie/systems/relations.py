"""Relation extraction by rules: spaCy dependency patterns over the documents' own entities.

Every sentence is parsed by the linguistic layer (:func:`tradeie.text.linguistic.parse_sentences`
over :func:`tradeie.corpus.document_tokens`), each entity's tokens are merged into
one token carrying the entity's id and label, and spaCy ``DependencyMatcher``
patterns find the constructions that state a relation (the guidelines plus the
project decisions D1-D9):

- **party_to** (ACTOR -> AGREEMENT): a party name compounded, possessive or adjectival
  on the agreement ("U.S.-India trade deal", "Japan's pact"); the subject (or a conjunct
  or apposition of it) of a deal verb (sign, reach, conclude, negotiate, pursue ...)
  whose object, or the object's "for" phrase, is the agreement; passive "signed by X";
  "deal with X", "agreement between X and Y", "talks with X on a deal"; "X are close to
  a deal"; "X agreed ... under the deal".
- **imposes** (ACTOR -> TARIFF): a country, capital or person compounded or possessive on
  the tariff (D1, "U.S. tariffs", "Washington's levy"); the subject of a tariff verb
  (impose, apply, raise, cut, remove, keep, suspend ...) whose object is the tariff,
  including relative clauses ("the tariff that Washington keeps"), passives with an agent
  ("imposed by Washington"), "its tariffs" owned by the clause subject and "signs an order
  removing the duty". Proposals, offers, threats, wishes and permissions block it (D2).
- **targets** (TARIFF -> ACTOR): an actor inside the "on/against/to ..." phrase of the tariff
  or of the verb that carries it ("on U.S. goods", "on goods from China", "on Japan's cars"),
  goods from an actor that "face" or "pay" the tariff; a demonym ("Chinese imports")
  targets the nearest mention of that country in the sentence (D8).
- **part_of** (TARIFF -> AGREEMENT): "under / in / as part of the deal" on the clause with the
  tariff; the agreement as the subject of a verb whose object is the tariff ("a pact that
  lowers tariffs"); a deal sealed by the clause that moves the tariff; a lead-in line or
  colon that names the agreement scopes the items under it (D7, plain Python over lines).

Links are drawn once per statement between the closest pair of mentions: candidates of one
sentence with the same label and the same head and tail referents keep the nearest pair.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tradeie.corpus import document_tokens, sentences_of
from tradeie.data.relcands import ITEM_LINE, line_spans
from tradeie.document import Document, Entity, Relation
from tradeie.text.linguistic import DEFAULT_PIPELINE, parse_sentences
from tradeie.systems.base import System

# ---------------------------------------------------------------------------------------------
# Word lists (the lemmatizer is not loaded, so verbs are matched through their inflected forms)

#: Verbs whose object agreement makes the subject a party (D9).
DEAL_VERBS = (
    "sign",
    "reach",
    "conclude",
    "finalise",
    "finalize",
    "seal",
    "negotiate",
    "strike",
    "ink",
    "clinch",
    "close",
    "ratify",
    "agree",
    "launch",
    "complete",
    "extend",
    "pursue",
    "announce",
    "renegotiate",
    "chase",
    "approve",
    "settle",
    "forge",
    "secure",
    "implement",
    "enter",
    "join",
)
#: Verbs whose object tariff is imposed by the subject (D2: acting on the measure).
TARIFF_VERBS = (
    "impose",
    "levy",
    "apply",
    "raise",
    "hike",
    "double",
    "triple",
    "cut",
    "lower",
    "reduce",
    "slash",
    "halve",
    "eliminate",
    "remove",
    "scrap",
    "drop",
    "lift",
    "keep",
    "maintain",
    "suspend",
    "set",
    "announce",
    "charge",
    "slap",
    "reimpose",
    "extend",
    "exempt",
    "increase",
    "introduce",
    "adopt",
    "waive",
    "abolish",
    "retain",
    "end",
    "axe",
    "roll",
    "phase",
    "bring",
    "take",
    "add",
    "put",
    "collect",
    "trim",
    "ease",
    "restore",
    "reinstate",
    "pause",
    "unwind",
    "withdraw",
)
#: Heads of clauses that turn the tariff verb under them into a proposal, wish or permission (D2).
BLOCK_VERBS = (
    "propose",
    "threaten",
    "offer",
    "want",
    "hope",
    "plan",
    "seek",
    "move",
    "consider",
    "urge",
    "ask",
    "let",
    "allow",
    "permit",
    "demand",
    "call",
    "push",
    "press",
    "warn",
    "mull",
    "weigh",
    "float",
    "suggest",
    "request",
    "could",
    "might",
    "may",
)
#: Verbs of goods bearing a tariff ("goods from Japan face a 15% tariff").
BEAR_VERBS = ("face", "pay", "incur", "attract", "bear", "suffer", "get", "meet")
#: Verbs with a tariff subject and the goods as object ("tariffs hit Chinese goods").
HIT_VERBS = ("hit", "target", "affect", "cover", "fall", "apply")
#: Verbs with an agreement subject that set terms ("a pact that lowers tariffs").
TERM_VERBS = TARIFF_VERBS + (
    "cap",
    "settle",
    "include",
    "contain",
    "cover",
    "let",
    "leave",
    "fix",
    "bind",
    "grant",
    "allow",
    "provide",
    "guarantee",
)
#: Verbs that report a tariff decision of their subject ("Trump says the tariff will be lowered").
SAY_VERBS = ("say", "announce", "declare", "confirm", "decide", "order")
#: Verbs linking members to an agreement ("Norway, tied to the bloc through the EEA agreement").
TIE_VERBS = ("tie", "bind", "link", "join")
BIND_VERBS = ("commit", "bind", "oblige", "obligate")
TALK_NOUNS = ("talks", "negotiations", "discussions", "negotiation", "talk")
ORDER_NOUNS = ("order", "orders", "proclamation", "decree", "memorandum")
PRONOUNS = ("it", "they", "he", "she", "we")
#: Possessive marks as spaCy tokenises them ("Japan's", "Japan’s", "the members'").
POSSESSIVE_MARKS = ("'s", "\u2019s", "'", "\u2019")
RELATIVE = ("which", "that", "who", "whom")
POSS_PRONOUNS = ("its", "their", "his", "her")
#: Prepositions whose phrase is not a term of the clause ("instead of the 25% levy").
EXCLUDED_PREPS = ("instead", "unlike", "except", "beyond", "before", "than")
#: Demonyms and the referents (and surface names, when referents are missing) they stand for (D8).
DEMONYMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "chinese": ("CHN", ("China", "Beijing")),
    "american": ("USA", ("US", "U.S.", "United States", "America", "Washington", "USA")),
    "indian": ("IND", ("India", "New Delhi")),
    "japanese": ("JPN", ("Japan", "Tokyo")),
    "european": ("EU", ("EU", "European Union", "Brussels")),
    "british": ("GBR", ("UK", "U.K.", "Britain", "United Kingdom", "London")),
    "canadian": ("CAN", ("Canada", "Ottawa")),
    "mexican": ("MEX", ("Mexico", "Mexico City")),
    "korean": ("KOR", ("South Korea", "Korea", "Seoul")),
    "ukrainian": ("UKR", ("Ukraine", "Kyiv")),
    "russian": ("RUS", ("Russia", "Moscow")),
    "brazilian": ("BRA", ("Brazil", "Brasilia", "Brasília")),
    "vietnamese": ("VNM", ("Vietnam", "Hanoi")),
    "australian": ("AUS", ("Australia", "Canberra")),
    "german": ("DEU", ("Germany", "Berlin")),
    "french": ("FRA", ("France", "Paris")),
    "swiss": ("CHE", ("Switzerland", "Bern")),
    "indonesian": ("IDN", ("Indonesia", "Jakarta")),
}
_IRREGULAR = {
    "strike": ("struck", "stricken"),
    "set": ("set",),
    "cut": ("cut",),
    "hit": ("hit",),
    "let": ("let",),
    "put": ("put",),
    "keep": ("kept",),
    "bring": ("brought",),
    "take": ("took", "taken"),
    "make": ("made",),
    "pay": ("paid",),
    "bear": ("bore", "borne"),
    "leave": ("left",),
    "get": ("got", "gotten"),
    "meet": ("met",),
    "fall": ("fell", "fallen"),
    "withdraw": ("withdrew", "withdrawn"),
    "undertake": ("undertook", "undertaken"),
    "say": ("said",),
    "seek": ("sought",),
    "bind": ("bound",),
    "lay": ("laid",),
    "win": ("won",),
}
_DOUBLE = {
    "slap",
    "drop",
    "scrap",
    "cap",
    "stop",
    "ink",
    "plan",
    "ship",
    "axe",
    "commit",
    "trim",
    "sit",
    "win",
    "set",
    "cut",
    "hit",
    "let",
    "put",
    "get",
    "bar",
}
_NO_DOUBLE = {"ink", "axe"}
_ENT_LABELS = ("ACTOR", "AGREEMENT", "TARIFF")
_KEY_TERMS = re.compile(
    r"\b(?:terms|elements|provisions|highlights|measures|components|points|features)\b"
    r"[^:]*?\b(?:include|includes|included|including|are|were)\b",
    re.IGNORECASE,
)


def _forms(base: str) -> set[str]:
    """Inflected forms of a verb (base, -s, past, -ing), irregular ones included."""
    out = {base}
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        out |= {base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    elif base.endswith("ee"):
        out |= {base + "s", base + "d", base + "ing"}
    elif base.endswith("e"):
        out |= {base + "s", base + "d", base[:-1] + "ing"}
    elif base.endswith(("s", "sh", "ch", "x", "z")):
        out |= {base + "es", base + "ed", base + "ing"}
    else:
        out |= {base + "s", base + "ed", base + "ing"}
        if base in _DOUBLE and base not in _NO_DOUBLE:
            out |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    out |= set(_IRREGULAR.get(base, ()))
    return out


def _lemma_table() -> dict[str, str]:
    table: dict[str, str] = {}
    verbs = DEAL_VERBS + TARIFF_VERBS + BLOCK_VERBS + BEAR_VERBS + HIT_VERBS + TERM_VERBS + SAY_VERBS
    for base in sorted(set(verbs + TIE_VERBS + BIND_VERBS)):
        for form in _forms(base):
            table.setdefault(form, base)
    table.update({"finalising": "finalise", "finalizing": "finalize", "agreed": "agree", "signing": "sign"})
    return table


LEMMAS = _lemma_table()


@dataclass
class RelationRulesConfig:
    """Settings of the relation rule system (see the module docstring for the rules)."""

    pipeline: str = field(default=DEFAULT_PIPELINE, metadata={"help": "spaCy pipeline for POS and the parse"})
    list_scope: bool = field(
        default=True,
        metadata={
            "help": "let a lead-in line or colon that names an agreement (or actor) scope the items under it (D7)"
        },
    )
    closest_pair: bool = field(
        default=True,
        metadata={"help": "keep one link per sentence, label and head/tail referent: the closest pair of mentions"},
    )
    labels: tuple[str, ...] = field(
        default=("party_to", "imposes", "targets", "part_of"),
        metadata={"help": "relation labels the rule system predicts"},
    )


# ---------------------------------------------------------------------------------------------
# spaCy side: token extensions and the matchers

_EXT = ("tie_ent", "tie_label", "tie_lemma")


def _register_extensions() -> None:
    from spacy.tokens import Token as SpacyToken

    for name in _EXT:
        if not SpacyToken.has_extension(name):
            SpacyToken.set_extension(name, default="")


def _ent(label: str, **extra) -> dict:
    return {"_": {"tie_label": label}, **extra}


def _lem(words: Iterable[str], **extra) -> dict:
    return {"_": {"tie_lemma": {"IN": sorted(set(words))}}, **extra}


def _node(name: str, attrs: dict, head: str | None = None, rel: str = ">") -> dict:
    if head is None:
        return {"RIGHT_ID": name, "RIGHT_ATTRS": attrs}
    return {"LEFT_ID": head, "REL_OP": rel, "RIGHT_ID": name, "RIGHT_ATTRS": attrs}


MOD_DEPS = ["compound", "poss", "amod", "nmod", "npadvmod", "appos", "dep", "nsubj"]


def dependency_patterns() -> dict[str, list[list[dict]]]:
    """The DependencyMatcher patterns, by rule name (the handler of a rule reads its nodes in order)."""
    mod = {"DEP": {"IN": MOD_DEPS}}
    chain = {"DEP": {"IN": [*MOD_DEPS, "conj", "punct", "cc"]}}
    obj = {"DEP": {"IN": ["dobj", "obj", "attr", "oprd"]}}
    return {
        # party_to ------------------------------------------------------------------------------
        "PARTY_MOD": [
            [_node("agr", _ent("AGREEMENT")), _node("actor", {**_ent("ACTOR"), **mod}, "agr")],
            [
                _node("agr", _ent("AGREEMENT")),
                _node("mid", {**_ent("ACTOR"), **mod}, "agr"),
                _node("actor", {**_ent("ACTOR"), **chain}, "mid"),
            ],
        ],
        "PARTY_WITH": [
            [
                _node("agr", _ent("AGREEMENT")),
                _node("prep", {"LOWER": {"IN": ["with", "between", "among", "by"]}, "DEP": "prep"}, "agr"),
                _node("actor", {**_ent("ACTOR"), "DEP": "pobj"}, "prep"),
            ],
        ],
        "PARTY_TALKS": [
            [
                _node("talks", {"LOWER": {"IN": list(TALK_NOUNS)}}),
                _node("prep", {"LOWER": "with", "DEP": "prep"}, "talks"),
                _node("actor", {**_ent("ACTOR"), "DEP": "pobj"}, "prep"),
                _node("prep2", {"LOWER": {"IN": ["on", "over", "for", "about", "toward", "towards"]}}, "talks"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "prep2"),
            ],
        ],
        "PARTY_VERB": [
            [_node("verb", _lem(DEAL_VERBS)), _node("agr", {**_ent("AGREEMENT"), **obj}, "verb")],
            [
                _node("verb", _lem(DEAL_VERBS)),
                _node("obj", obj, "verb"),
                _node("prep", {"LOWER": "for", "DEP": "prep"}, "obj"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "prep"),
            ],
            [
                _node("verb", _lem(DEAL_VERBS)),
                _node("prep", {"LOWER": {"IN": ["on", "to", "upon"]}, "DEP": "prep"}, "verb"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "prep"),
            ],
        ],
        "PARTY_REL": [
            [
                _node("agr", _ent("AGREEMENT")),
                _node("verb", {**_lem(DEAL_VERBS), "DEP": {"IN": ["relcl", "acl"]}}, "agr"),
            ],
        ],
        "PARTY_PASSIVE": [
            [_node("verb", _lem(DEAL_VERBS)), _node("agr", {**_ent("AGREEMENT"), "DEP": "nsubjpass"}, "verb")],
        ],
        "PARTY_CLOSE2": [
            [
                _node("adj", {"LOWER": {"IN": ["close", "closer", "closest", "near", "nearer"]}}),
                _node("be", {"DEP": "advcl"}, "adj"),
                _node("prep", {"LOWER": "to", "DEP": "prep"}, "be"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "prep"),
            ],
        ],
        "PARTY_POSS": [
            [
                _node("agr", _ent("AGREEMENT")),
                _node("pron", {"LOWER": {"IN": list(POSS_PRONOUNS)}, "DEP": "poss"}, "agr"),
            ],
        ],
        "PARTY_SIGN": [
            [
                _node("verb", {"POS": {"IN": ["VERB", "AUX"]}}),
                _node("sig", {"LOWER": {"IN": ["signature", "signatures", "seal", "names", "name"]}, **obj}, "verb"),
                _node("prep", {"LOWER": {"IN": ["to", "on", "under"]}, "DEP": "prep"}, "verb"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "prep"),
            ],
        ],
        "PARTY_CLOSE": [
            [
                _node("adj", {"LOWER": {"IN": ["close", "closer", "closest", "near", "nearer"]}}),
                _node("prep", {"LOWER": "to", "DEP": "prep"}, "adj"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "prep"),
            ],
        ],
        "PARTY_UNDER": [
            [
                _node("verb", {"POS": {"IN": ["VERB", "AUX"]}}),
                _node("prep", {"LOWER": {"IN": ["under", "in"]}, "DEP": "prep"}, "verb"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "prep"),
            ],
        ],
        # "That accord commits Congo and Rwanda to a ceasefire" (D13: a deal that binds named actors)
        "PARTY_BOUND": [
            [
                _node("verb", _lem(BIND_VERBS)),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "nsubj"}, "verb"),
                _node("actor", {**_ent("ACTOR"), "DEP": "dobj"}, "verb"),
            ],
        ],
        "PARTY_TIED": [
            [
                _node("verb", _lem(TIE_VERBS)),
                _node("prep", {"LOWER": {"IN": ["through", "by", "under", "via"]}}, "verb"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "prep"),
            ],
        ],
        # imposes -------------------------------------------------------------------------------
        "IMP_MOD": [
            [
                _node("tariff", _ent("TARIFF")),
                _node(
                    "actor",
                    {**_ent("ACTOR"), "DEP": {"IN": ["compound", "poss", "nmod", "npadvmod", "amod"]}},
                    "tariff",
                ),
            ],
            [
                _node("tariff", _ent("TARIFF")),
                _node(
                    "mid", {**_ent("ACTOR"), "DEP": {"IN": ["compound", "poss", "nmod", "npadvmod", "amod"]}}, "tariff"
                ),
                _node("actor", {**_ent("ACTOR"), "DEP": "conj"}, "mid"),
            ],
        ],
        "IMP_VERB": [
            [_node("verb", _lem(TARIFF_VERBS)), _node("tariff", {**_ent("TARIFF"), **obj}, "verb")],
            [
                _node("verb", _lem(TARIFF_VERBS)),
                _node("obj", obj, "verb"),
                _node("prep", {"LOWER": "of", "DEP": "prep"}, "obj"),
                _node("tariff", {**_ent("TARIFF"), "DEP": "pobj"}, "prep"),
            ],
        ],
        "IMP_REL": [
            [
                _node("tariff", _ent("TARIFF")),
                _node("verb", {**_lem(TARIFF_VERBS), "DEP": {"IN": ["relcl", "acl"]}}, "tariff"),
            ],
        ],
        "IMP_PASSIVE": [
            [_node("verb", _lem(TARIFF_VERBS)), _node("tariff", {**_ent("TARIFF"), "DEP": "nsubjpass"}, "verb")],
        ],
        "IMP_SAY": [
            [
                _node("say", _lem(SAY_VERBS)),
                _node("verb", {**_lem(TARIFF_VERBS), "DEP": "ccomp"}, "say"),
                _node("tariff", {**_ent("TARIFF"), "DEP": "nsubjpass"}, "verb"),
            ],
        ],
        "IMP_POSS": [
            [
                _node("tariff", _ent("TARIFF")),
                _node("pron", {"LOWER": {"IN": list(POSS_PRONOUNS)}, "DEP": "poss"}, "tariff"),
            ],
        ],
        # targets -------------------------------------------------------------------------------
        "TGT_PP": [
            [
                _node("tariff", _ent("TARIFF")),
                _node("prep", {"LOWER": {"IN": ["on", "against", "to", "for"]}, "DEP": "prep"}, "tariff"),
                _node("goods", {"DEP": "pobj"}, "prep"),
            ],
        ],
        # "a 31% tariff on goods from Switzerland", "raising tariffs on cars ... from South Korea to 25%": the
        # parser hangs "from X" on the tariff or on its verb beside the "on goods" phrase
        "TGT_FROM": [
            [
                _node("tariff", _ent("TARIFF")),
                _node("on", {"LOWER": "on", "DEP": "prep"}, "tariff"),
                _node("from", {"LOWER": "from", "DEP": "prep"}, "tariff"),
                _node("actor", {**_ent("ACTOR"), "DEP": "pobj"}, "from"),
            ],
            [
                _node("verb", {"POS": "VERB"}),
                _node("tariff", {**_ent("TARIFF"), "DEP": {"IN": ["dobj", "obj", "nsubjpass"]}}, "verb"),
                _node("on", {"LOWER": "on", "DEP": "prep"}, "tariff"),
                _node("from", {"LOWER": "from", "DEP": "prep"}, "verb"),
                _node("actor", {**_ent("ACTOR"), "DEP": "pobj"}, "from"),
            ],
        ],
        "TGT_VERB_PP": [
            [
                _node("verb", {"POS": {"IN": ["VERB", "AUX"]}}),
                _node("tariff", {**_ent("TARIFF"), "DEP": {"IN": ["dobj", "obj", "nsubjpass"]}}, "verb"),
                _node("prep", {"LOWER": {"IN": ["on", "against", "to"]}, "DEP": "prep"}, "verb"),
                _node("goods", {"DEP": "pobj"}, "prep"),
            ],
            [
                _node("tariff", _ent("TARIFF")),
                _node("verb", {"DEP": {"IN": ["relcl", "acl"]}}, "tariff"),
                _node("prep", {"LOWER": {"IN": ["on", "against", "to"]}, "DEP": "prep"}, "verb"),
                _node("goods", {"DEP": "pobj"}, "prep"),
            ],
        ],
        "TGT_BEAR": [
            [_node("verb", _lem(BEAR_VERBS)), _node("tariff", {**_ent("TARIFF"), **obj}, "verb")],
            [
                _node("verb", _lem(BEAR_VERBS)),
                _node("prep", {"LOWER": {"IN": ["without", "at"]}, "DEP": "prep"}, "verb"),
                _node("tariff", {**_ent("TARIFF"), "DEP": "pobj"}, "prep"),
            ],
        ],
        "TGT_HIT": [
            [
                _node("verb", _lem(HIT_VERBS)),
                _node("tariff", {**_ent("TARIFF"), "DEP": "nsubj"}, "verb"),
                _node("goods", {"DEP": {"IN": ["dobj", "obj"]}}, "verb"),
            ],
            [
                _node("verb", _lem(HIT_VERBS)),
                _node("tariff", {**_ent("TARIFF"), "DEP": "nsubj"}, "verb"),
                _node("prep", {"LOWER": {"IN": ["on", "to"]}, "DEP": "prep"}, "verb"),
                _node("goods", {"DEP": "pobj"}, "prep"),
            ],
        ],
        # part_of -------------------------------------------------------------------------------
        "PART_PP": [
            [
                _node("head", {}),
                _node("prep", {"LOWER": {"IN": ["under", "in", "within", "through", "via"]}, "DEP": "prep"}, "head"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "prep"),
            ],
            [  # "lower its tariffs under each of its deals"
                _node("head", {}),
                _node("prep", {"LOWER": {"IN": ["under", "in", "within"]}, "DEP": "prep"}, "head"),
                _node("each", {"LOWER": {"IN": ["each", "all", "both", "one", "some", "any", "either"]}}, "prep"),
                _node("of", {"LOWER": "of", "DEP": "prep"}, "each"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "of"),
            ],
            [
                _node("head", {}),
                _node("prep", {"LOWER": "as", "DEP": "prep"}, "head"),
                _node("part", {"LOWER": {"IN": ["part", "term", "terms", "element"]}, "DEP": "pobj"}, "prep"),
                _node("of", {"LOWER": "of", "DEP": "prep"}, "part"),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "pobj"}, "of"),
            ],
        ],
        "PART_SUBJ": [
            [_node("verb", _lem(TERM_VERBS)), _node("agr", {**_ent("AGREEMENT"), "DEP": "nsubj"}, "verb")],
            [
                _node("agr", _ent("AGREEMENT")),
                _node("verb", {**_lem(TERM_VERBS), "DEP": {"IN": ["relcl", "acl"]}}, "agr"),
            ],
        ],
        "PART_SUBJ2": [
            [
                _node("verb", {"POS": {"IN": ["VERB", "AUX"]}}),
                _node("agr", {**_ent("AGREEMENT"), "DEP": "nsubj"}, "verb"),
                _node("verb2", {**_lem(TERM_VERBS), "DEP": {"IN": ["advcl", "conj", "xcomp"]}}, "verb"),
            ],
        ],
        "PART_SEAL": [
            [
                _node("verb", {**_lem(DEAL_VERBS), "DEP": {"IN": ["advcl", "conj", "xcomp"]}}),
                _node("agr", {**_ent("AGREEMENT"), **obj}, "verb"),
            ],
        ],
    }


def surface_patterns() -> dict[str, list[list[dict]]]:
    """Token ``Matcher`` patterns for party names and possessors written right on a mention, which the
    parser often gets wrong around dashes ("EU\u2013US framework", "U.S.-India trade deal")."""
    dash = {"ORTH": {"IN": ["-", "\u2013", "\u2014", "/"]}}
    poss = {"LOWER": {"IN": list(POSSESSIVE_MARKS)}}
    actor, agr, tariff = _ent("ACTOR"), _ent("AGREEMENT"), _ent("TARIFF")
    return {
        "SURF_PARTY": [[actor, agr], [actor, poss, agr], [actor, dash, actor, agr], [actor, dash, actor, poss, agr]],
        "SURF_IMPOSES": [[actor, tariff], [actor, poss, tariff]],
        # "the 25% tariff imposed by Washington" (kept when the parser loses the agent phrase)
        "SURF_AGENT": [
            [tariff, {**_lem(TARIFF_VERBS), "TAG": "VBN"}, {"LOWER": "by"}, {"POS": "DET", "OP": "?"}, actor]
        ],
        # "Trump signs an (executive) order removing the 25% penalty duty"
        "SURF_ORDER": [
            [
                actor,
                _lem(("sign", "issue")),
                {"POS": "DET", "OP": "?"},
                {"LOWER": "executive", "OP": "?"},
                {"LOWER": {"IN": list(ORDER_NOUNS)}},
                {**_lem(TARIFF_VERBS), "LOWER": {"REGEX": "ing$"}},
                {"POS": {"IN": ["DET", "ADJ", "NUM"]}, "OP": "*"},
                tariff,
            ]
        ],
    }


class RelationMatcher:
    """The DependencyMatcher over merged-entity sentences and the handlers of its rules."""

    def __init__(self, pipeline: str = DEFAULT_PIPELINE) -> None:
        from spacy.matcher import DependencyMatcher, Matcher

        from tradeie.text.linguistic import load_pipeline

        _register_extensions()
        nlp = load_pipeline(pipeline)
        self.matcher = DependencyMatcher(nlp.vocab)
        for name, patterns in dependency_patterns().items():
            self.matcher.add(name, patterns)
        self.surface = Matcher(nlp.vocab)
        for name, patterns in surface_patterns().items():
            self.surface.add(name, patterns)

    def candidates(self, sdoc) -> list[tuple[int, int, str, str]]:
        """``(head token, tail token, label, rule)`` candidates in one merged sentence.

        A rule that links a mention as a separate deal of the same statement ("a framework for an
        interim agreement") names itself ``...:distinct`` so the closest-pair step keeps both."""
        out: list[tuple[int, int, str, str]] = []
        seen = set()
        found = [(sdoc.vocab.strings[m], ids) for m, ids in self.matcher(sdoc)]
        found += [(sdoc.vocab.strings[m], list(range(s, e))) for m, s, e in self.surface(sdoc)]
        for rule, ids in found:
            handler = getattr(self, "_" + rule.lower())
            for item in handler(sdoc, *[sdoc[i] for i in ids]):
                head, tail, label = item[:3]
                tag = rule + (":distinct" if len(item) > 3 else "")
                key = (head.i, tail.i, label)
                if head.i != tail.i and key not in seen:
                    seen.add(key)
                    out.append((head.i, tail.i, label, tag))
        return _modifier_targets(sdoc, out)

    # --- surface patterns (token Matcher): party names and possessors written on the mention
    def _surf_party(self, sdoc, *toks):
        agr = toks[-1]
        for a in toks[:-1]:
            if a._.tie_label == "ACTOR":
                yield a, agr, "party_to"

    def _surf_imposes(self, sdoc, *toks):
        tariff = toks[-1]
        for a in toks[:-1]:
            if a._.tie_label == "ACTOR":
                yield a, tariff, "imposes"

    def _surf_agent(self, sdoc, *toks):
        yield toks[-1], toks[0], "imposes"

    def _surf_order(self, sdoc, *toks):
        yield toks[0], toks[-1], "imposes"

    def _party_poss(self, sdoc, agr, pron):
        verb = _governing_verb(agr)
        if verb is None:
            return
        for a in subjects(verb, "party_to"):
            yield a, agr, "party_to"

    def _party_sign(self, sdoc, verb, sig, prep, agr):
        for a in subjects(verb, "party_to"):
            yield a, agr, "party_to"

    def _part_subj2(self, sdoc, verb, agr, verb2):
        if _children(verb2, "nsubj", "nsubjpass") or _negated(verb2):
            return
        for t in clause_tariffs(verb2, set()):
            yield t, agr, "part_of"

    # --- party_to
    def _party_mod(self, sdoc, agr, *actors):
        yield actors[-1], agr, "party_to"
        if len(actors) == 2:
            yield actors[0], agr, "party_to"

    def _party_with(self, sdoc, agr, prep, actor):
        for a in _with_conjuncts(actor):
            yield a, agr, "party_to"

    def _party_talks(self, sdoc, talks, prep, actor, prep2, agr):
        for a in _with_conjuncts(actor):
            yield a, agr, "party_to"

    def _party_verb(self, sdoc, verb, *rest):
        agrs = [rest[-1], *_conjuncts(rest[-1], "AGREEMENT")]
        if len(rest) == 3 and rest[0]._.tie_label == "AGREEMENT":
            agrs = [rest[-1]]
        parties = subjects(verb, "party_to") + _with_actors(verb)
        for agr in agrs:
            for a in parties:
                yield (a, agr, "party_to", "distinct") if len(rest) == 3 else (a, agr, "party_to")

    def _party_rel(self, sdoc, agr, verb):
        parties = [a for s in _children(verb, "nsubj") if not _is_relative(s) for a in expand_actors(s)]
        parties += _agent_actors(verb) + _with_actors(verb)
        for a in parties:
            yield a, agr, "party_to"

    def _party_passive(self, sdoc, verb, agr):
        for a in _agent_actors(verb) + _with_actors(verb):
            yield a, agr, "party_to"

    def _party_close(self, sdoc, adj, prep, agr):
        head = adj
        while head.dep_ in ("acomp", "advmod", "attr", "amod", "prep", "pobj") and head.head is not head:
            head = head.head
        for a in subjects(head, "party_to"):
            yield a, agr, "party_to"

    def _party_close2(self, sdoc, adj, be, prep, agr):
        yield from self._party_close(sdoc, adj, prep, agr)

    def _party_under(self, sdoc, verb, prep, agr):
        chain = [verb]
        while chain[-1].dep_ in ("xcomp", "conj", "advcl") and chain[-1].head is not chain[-1]:
            chain.append(chain[-1].head)
        if not any(v._.tie_lemma in ("agree", "sign", "commit", "undertake") for v in chain):
            return
        for a in subjects(verb, "party_to"):
            yield a, agr, "party_to"

    def _party_bound(self, sdoc, verb, agr, actor):
        if _negated(verb):
            return
        for a in _with_conjuncts(actor):
            yield a, agr, "party_to"

    def _party_tied(self, sdoc, verb, prep, agr):
        if verb.dep_ in ("acl", "relcl"):
            parties = _with_conjuncts(verb.head) if verb.head._.tie_label == "ACTOR" else []
        else:
            parties = subjects(verb, "party_to")
        for a in parties:
            yield a, agr, "party_to"

    # --- imposes
    def _imp_mod(self, sdoc, tariff, *actors):
        for a in actors:
            yield a, tariff, "imposes"

    def _imp_verb(self, sdoc, verb, *rest):
        tariffs = [rest[-1], *_conjuncts(rest[-1], "TARIFF")]
        for a in subjects(verb, "imposes"):
            for t in tariffs:
                yield a, t, "imposes"

    def _imp_rel(self, sdoc, tariff, verb):
        if _blocked(verb):
            return
        actors = [a for s in _children(verb, "nsubj") if not _is_relative(s) for a in expand_actors(s)]
        for a in actors + _agent_actors(verb):
            yield a, tariff, "imposes"

    def _imp_passive(self, sdoc, verb, tariff):
        if _blocked(verb):
            return
        for a in _agent_actors(verb):
            yield a, tariff, "imposes"

    def _imp_say(self, sdoc, say, verb, tariff):
        if _agent_actors(verb) or _blocked(say):
            return
        for a in subjects(say, "imposes"):
            yield a, tariff, "imposes"

    def _imp_poss(self, sdoc, tariff, pron):
        verb = _governing_verb(tariff)
        if verb is None:
            return
        for a in subjects(verb, "imposes"):
            yield a, tariff, "imposes"

    # --- targets
    def _tgt_pp(self, sdoc, tariff, prep, goods):
        for a in goods_actors(goods):
            yield tariff, a, "targets"

    def _tgt_from(self, sdoc, *nodes):
        tariff = nodes[0] if nodes[0]._.tie_label == "TARIFF" else nodes[1]
        for a in _with_conjuncts(nodes[-1]):
            yield tariff, a, "targets"

    def _tgt_verb_pp(self, sdoc, *nodes):
        tariff = nodes[1] if nodes[0]._.tie_label != "TARIFF" else nodes[0]
        for a in goods_actors(nodes[-1]):
            yield tariff, a, "targets"

    def _tgt_bear(self, sdoc, verb, *rest):
        tariff = rest[-1]
        for subj in _bearers(verb):
            if subj._.tie_label == "ACTOR":
                for a in _with_conjuncts(subj):
                    yield tariff, a, "targets"
            else:
                for a in goods_actors(subj):
                    yield tariff, a, "targets"

    def _tgt_hit(self, sdoc, verb, tariff, *rest):
        for a in goods_actors(rest[-1]):
            yield tariff, a, "targets"

    # --- part_of
    def _part_pp(self, sdoc, head, prep, *rest):
        agr = rest[-1]
        if head._.tie_label == "TARIFF":
            yield head, agr, "part_of"
            return
        if head.pos_ not in ("VERB", "AUX"):
            return
        skip = {prep.i}
        if head.dep_ in ("advcl", "acl") and not _children(head, "nsubj", "nsubjpass") and head.head is not head:
            head = head.head  # "In that agreement, signed last July, India agreed to ..."
        if prep.i == 0 and prep.lower_ == "under":
            head = head.sent.root  # "Under the deal, A will cut ...; and B will lower ...": every clause
        for t in clause_tariffs(head, skip):
            yield t, agr, "part_of"

    def _part_subj(self, sdoc, a, b):
        verb, agr = (a, b) if a._.tie_label != "AGREEMENT" else (b, a)
        if _negated(verb):
            return
        agrs = [agr, *_conjuncts(agr, "AGREEMENT")]
        skip = {agr.i} if agr.head is verb else set()
        for t in clause_tariffs(verb, skip):
            for g in agrs:
                yield t, g, "part_of"

    def _part_seal(self, sdoc, verb, agr):
        main = verb.head
        if main is verb:
            return
        for t in clause_tariffs(main, {verb.i}):
            yield t, agr, "part_of"


MODIFIER_RULES = ("IMP_MOD", "SURF_IMPOSES")


def _modifier_targets(sdoc, found: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """D11: a country name or possessive on a tariff names its target, not its imposer, when the sentence
    names another imposer of the same mention (a subject who raises it, or a compound in the same noun
    phrase: "Switzerland's 39% U.S. tariff")."""
    by_tariff: dict[int, list[tuple[int, int, str, str]]] = {}
    for item in found:
        if item[2] == "imposes":
            by_tariff.setdefault(item[1], []).append(item)
    turned: dict[tuple[int, int, str, str], tuple[int, int, str, str]] = {}
    for tariff, items in by_tariff.items():
        mods = [x for x in items if x[3].split(":")[0] in MODIFIER_RULES]
        others = {sdoc[x[0]].lower_ for x in items if x not in mods}
        poss = [x for x in mods if _is_possessor(sdoc[x[0]])]
        for x in mods:
            actor = sdoc[x[0]].lower_
            if (others - {actor}) or (x in poss and {sdoc[y[0]].lower_ for y in mods if y not in poss} - {actor}):
                turned[x] = (tariff, x[0], "targets", x[3] + "-d11")
    out, seen = [], set()
    for item in found:
        new = turned.get(item, item)
        if new[:3] not in seen:
            seen.add(new[:3])
            out.append(new)
    return out


def _is_possessor(tok) -> bool:
    nxt = tok.doc[tok.i + 1] if tok.i + 1 < len(tok.doc) else None
    return tok.dep_ == "poss" or (nxt is not None and nxt.lower_ in POSSESSIVE_MARKS)


# ---------------------------------------------------------------------------------------------
# Tree helpers


def _children(tok, *deps):
    return [c for c in tok.children if c.dep_ in deps]


def _is_relative(tok) -> bool:
    return tok.lower_ in RELATIVE


def _conjuncts(tok, label: str) -> list:
    """Conjuncts of ``tok`` (recursively) carrying entity ``label``."""
    out, todo = [], _coordinated(tok)
    while todo:
        c = todo.pop(0)
        if c._.tie_label == label:
            out.append(c)
        todo += _coordinated(c)
    return out


def _coordinated(tok) -> list:
    """Conjuncts and appositions of ``tok``, plus name modifiers that carry their own "and" (the parser
    often hangs "Marco Rubio and ... S. Jaishankar" as a modifier of the second name)."""
    return [
        c
        for c in tok.children
        if c.dep_ in ("conj", "appos")
        or (
            c.dep_ in ("nmod", "compound")
            and c._.tie_label == tok._.tie_label != ""
            and any(g.dep_ == "cc" for g in c.children)
        )
    ]


def _with_conjuncts(actor) -> list:
    return [actor, *_conjuncts(actor, "ACTOR")]


def expand_actors(subj) -> list:
    """ACTOR mentions a subject stands for: itself, its conjuncts and appositions, and for a common noun
    ("negotiators for the EU and ...") the actors of its for/of/from phrase."""
    out = []
    if subj._.tie_label == "ACTOR":
        out.append(subj)
    out += _conjuncts(subj, "ACTOR")
    if subj._.tie_label == "" and subj.pos_ in ("NOUN", "PROPN"):
        for prep in _children(subj, "prep"):
            if prep.lower_ in ("for", "of", "from"):
                for pobj in _children(prep, "pobj"):
                    if pobj._.tie_label == "ACTOR":
                        out.append(pobj)
                    out += _conjuncts(pobj, "ACTOR")
    seen, uniq = set(), []
    for a in out:
        if a.i not in seen:
            seen.add(a.i)
            uniq.append(a)
    return uniq


def _agent_actors(verb) -> list:
    return [
        a
        for ag in _children(verb, "agent")
        for p in _children(ag, "pobj")
        for a in _with_conjuncts(p)
        if a._.tie_label == "ACTOR"
    ]


def _with_actors(verb) -> list:
    return [
        a
        for prep in _children(verb, "prep")
        if prep.lower_ in ("with", "between")
        for p in _children(prep, "pobj")
        if p._.tie_label == "ACTOR"
        for a in _with_conjuncts(p)
    ]


def _blocked(verb) -> bool:
    """True if ``verb`` is (under) a proposal, threat, wish or permission (D2)."""
    tok = verb
    for _ in range(4):
        if tok._.tie_lemma in BLOCK_VERBS:
            return True
        if any(c.lower_ in ("could", "might", "may") and c.dep_ == "aux" for c in tok.children) and tok is not verb:
            return True
        if tok.dep_ in ("xcomp", "ccomp", "advcl", "pcomp", "prep") and tok.head is not tok:
            if tok.dep_ == "ccomp" and tok.i < tok.head.i:
                break  # "A will cut its tariff; B plan to invest": a clause before its head is not its complement
            tok = tok.head
            continue
        break
    return False


def _negated(verb) -> bool:
    tok = verb
    for _ in range(3):
        if any(
            c.dep_ == "neg" or (c.dep_ in ("dobj", "npadvmod") and c.lower_ in ("nothing", "none"))
            for c in tok.children
        ):
            return True
        if tok.dep_ in ("xcomp", "advcl", "conj") and tok.head is not tok:
            tok = tok.head
            continue
        break
    return False


def subjects(verb, label: str) -> list:
    """The actors that act as the subject of ``verb``: its own subject, else the subject of the clause it
    depends on (xcomp, conj, advcl, "close to finalising"); pronoun subjects are resolved to the subject of the
    reporting clause ("India said it will lower ..."); relative pronouns to their antecedent. Empty when the
    verb is a proposal or permission (imposes, D2)."""
    if label == "imposes" and _blocked(verb):
        return []
    tok, also = verb, []
    for _ in range(6):
        subj = _children(tok, "nsubj")
        if subj:
            s = subj[0]
            if _is_relative(s) and tok.dep_ == "relcl":
                return expand_actors(tok.head)
            if s.lower_ in PRONOUNS and tok.dep_ in ("ccomp", "conj", "advcl", "parataxis") and tok.head is not tok:
                also += _conjuncts(s, "ACTOR")  # "Trump said he and Lee had reached the deal"
                tok = tok.head
                continue
            found = expand_actors(s)
            return found + [a for a in also if a not in found] if found else found
        if tok.dep_ == "relcl":
            return expand_actors(tok.head) if tok.head._.tie_label == "ACTOR" else []
        if tok.dep_ in ("xcomp", "advcl", "conj", "pcomp", "prep", "acomp", "ccomp") and tok.head is not tok:
            if tok.dep_ == "xcomp" and _children(tok.head, "dobj"):
                return []  # object control: "urged London to secure a quota"
            if (
                tok.dep_ == "conj"
                and tok.pos_ in ("VERB", "AUX")
                and any(c.dep_ in ("aux", "auxpass") and c.lower_ != "to" for c in tok.children)
            ):
                return []  # a finite conjunct clause has a subject of its own, even when misparsed
            tok = tok.head
            continue
        if (
            label == "imposes"
            and tok.dep_ == "acl"
            and tok.head.lower_ in ORDER_NOUNS
            and tok.head.dep_ in ("dobj", "obj")
            and tok.head.head is not tok.head
        ):
            tok = tok.head.head
            continue
        break
    return _adjacent_actors(verb) if verb is tok and verb.pos_ == "VERB" else []


def _adjacent_actors(verb) -> list:
    """Actors written right before a finite verb that the parser left without a subject ("..., Félix
    Tshisekedi and Paul Kagame signed the Washington Accords", the names hung as an apposition)."""
    if verb.dep_ not in ("ROOT", "conj") or _children(verb, "nsubjpass", "csubj", "expl"):
        return []
    i = verb.i - 1
    while i >= 0 and verb.doc[i].dep_ in ("aux", "neg", "advmod") and verb.doc[i].head is verb:
        i -= 1
    if i < 0 or verb.doc[i]._.tie_label != "ACTOR":
        return []
    tok = verb.doc[i]
    while tok.dep_ == "conj" and tok.head._.tie_label == "ACTOR":
        tok = tok.head
    return _with_conjuncts(tok)


def _governing_verb(tok):
    for _ in range(6):
        if tok.head is tok:
            return tok if tok.pos_ in ("VERB", "AUX") else None
        tok = tok.head
        if tok.pos_ in ("VERB", "AUX"):
            return tok
    return None


def _bearers(verb) -> list:
    """Subjects of a bearing verb ("goods from India face ..."), through relative clauses and conjuncts."""
    tok = verb
    for _ in range(4):
        subj = _children(tok, "nsubj")
        if subj:
            s = subj[0]
            if _is_relative(s) and tok.dep_ == "relcl":
                return [tok.head]
            if s.lower_ in ("its", "their"):
                return []
            return [s, *_children(s, "conj")]
        if tok.dep_ in ("conj", "xcomp", "advcl", "acl") and tok.head is not tok:
            if tok.dep_ == "acl":
                # "leaves most of its exports facing a tariff": the exports' owner
                owner = [c for c in tok.head.subtree if c.lower_ in POSS_PRONOUNS]
                if owner:
                    gov = _governing_verb(tok.head)
                    return subjects(gov, "targets") if gov is not None else []
                return [tok.head]
            tok = tok.head
            continue
        break
    return []


GOODS_DEPS = ("compound", "poss", "amod", "nmod", "conj", "appos", "pobj", "prep", "acl", "npadvmod")


def goods_actors(goods) -> list:
    """ACTOR mentions (and demonym tokens) that name whose goods ``goods`` are: the goods noun itself, its
    compounds and possessives, "from/of/in X" phrases and "built in X" participles."""
    out, todo, seen = [], [(goods, 0)], set()
    while todo:
        tok, depth = todo.pop(0)
        if tok.i in seen or depth > 4:
            continue
        seen.add(tok.i)
        if tok._.tie_label == "ACTOR":
            if tok.i >= 2 and tok.doc[tok.i - 1].text in "-\u2013" and tok.doc[tok.i - 2].lower_ == "non":
                continue  # "non-U.S. content" is not U.S. goods
            out.append(tok)
            out += [c for c in _conjuncts(tok, "ACTOR") if c.i not in seen]
            continue
        if tok._.tie_label in ("TARIFF", "AGREEMENT"):
            continue
        if tok.lower_ in DEMONYMS and tok.dep_ in ("amod", "compound", "nmod"):
            out.append(tok)
            continue
        if tok.dep_ == "poss" and tok.lower_ in ("other", "each"):  # "each other's goods"
            out.append(tok)
            continue
        for c in tok.children:
            if c.dep_ not in GOODS_DEPS:
                continue
            if c.dep_ == "prep" and c.lower_ not in ("from", "of", "in", "by"):
                continue
            if c.dep_ != "acl" or c.pos_ == "VERB":
                todo.append((c, depth + 1))
    return out


def clause_tariffs(verb, skip: set[int]) -> list:
    """TARIFF mentions in the clause of ``verb`` (its subtree), leaving out the subtrees at ``skip`` and
    phrases that are not terms of the clause ("instead of ...")."""
    out, todo = [], [verb]
    while todo:
        tok = todo.pop()
        if tok.i in skip and tok is not verb:
            continue
        if tok is not verb and tok.dep_ == "prep" and tok.lower_ in EXCLUDED_PREPS:
            continue
        if tok is not verb and (
            tok.lower_ == "instead" or (tok.dep_ == "prep" and any(c.lower_ in EXCLUDED_PREPS for c in tok.children))
        ):
            continue
        if tok._.tie_label == "TARIFF":
            out.append(tok)
        todo += [c for c in tok.children if c.i not in skip]
    return sorted(out, key=lambda t: t.i)


# ---------------------------------------------------------------------------------------------
# Document side: merging entities, structural list scope, closest pair


@dataclass
class ParsedSentence:
    """One parsed sentence of a document: its character span, the spaCy ``Doc`` (entity tokens merged)
    and merged token index -> entity."""

    start: int
    end: int
    sdoc: object
    ents: dict[int, Entity]


def parse_documents(docs: Sequence[Document], pipeline: str = DEFAULT_PIPELINE) -> list[list[ParsedSentence]]:
    """Per document, its parsed sentences, each entity's tokens merged into one token carrying the
    entity (``tok._.tie_ent`` / ``tie_label`` / ``tie_lemma``; ``ParsedSentence.ents``: token index -> entity)."""
    units = []  # (doc index, sentence span, tokens)
    for d, doc in enumerate(docs):
        spans = sentences_of(doc)
        for (s, e), toks in zip(spans, document_tokens(doc)):
            if toks:
                units.append((d, (s, e), toks))
    parsed = parse_sentences([toks for _, _, toks in units], pipeline) if units else []
    _register_extensions()
    per_doc: list[list[ParsedSentence]] = [[] for _ in docs]
    for (d, (s, e), toks), sdoc in zip(units, parsed):
        ents = [x for x in docs[d].entities if x.start >= s and x.end <= e]
        mapping = _merge_entities(sdoc, toks, ents)
        per_doc[d].append(ParsedSentence(s, e, sdoc, mapping))
    return per_doc


def _merge_entities(sdoc, toks, ents: Sequence[Entity]) -> dict[int, Entity]:
    """Merge each entity's tokens of ``sdoc`` into one token tagged with its id and label."""
    spans = []
    for ent in ents:
        idx = [i for i, t in enumerate(toks) if t.start >= ent.start and t.end <= ent.end]
        if idx:
            spans.append((idx[0], idx[-1] + 1, ent))
    spans.sort(key=lambda s: s[0])
    clean, last = [], -1
    for s, e, ent in spans:
        if s >= last:
            clean.append((s, e, ent))
            last = e
    with sdoc.retokenize() as retok:
        for s, e, _ in clean:
            if e - s > 1:
                retok.merge(sdoc[s:e])
    mapping: dict[int, Entity] = {}
    shift = 0
    for s, e, ent in clean:
        new = s - shift
        mapping[new] = ent
        shift += e - s - 1
    for tok in sdoc:
        ent = mapping.get(tok.i)
        tok._.tie_ent = ent.id if ent else ""
        tok._.tie_label = ent.label if ent else ""
        tok._.tie_lemma = LEMMAS.get(tok.lower_, tok.lower_)
    return mapping


def _referent(ent: Entity) -> str:
    return ent.referent or ent.text.lower() or ent.id


def _demonym_actor(tok, sent: ParsedSentence, near: Entity, doc: Document) -> Entity | None:
    """The nearest mention in the sentence of the country a demonym stands for (D8)."""
    ref, names = DEMONYMS[tok.lower_]
    refs = {
        e.referent for e in doc.entities if e.label == "ACTOR" and e.referent and (e.referent == ref or e.text in names)
    }
    cands = [
        e for e in sent.ents.values() if e.label == "ACTOR" and ((e.referent and e.referent in refs) or e.text in names)
    ]
    if not cands:
        return None
    return min(cands, key=lambda e: abs(e.start - near.start))


def _reciprocal_actors(tok, tariff_tok) -> list:
    """ "each other's goods": the coordinated subject actors of the clause."""
    verb = _governing_verb(tariff_tok)
    if verb is None:
        return []
    found = subjects(verb, "targets")
    if not found and verb.dep_ == "relcl":
        found = subjects(verb.head.head, "targets") if verb.head.head is not verb.head else []
    return found


def _is_heading(line: str) -> bool:
    """A heading line: short, with no sentence-final punctuation ("Ecuador framework", "What Washington charges")."""
    stripped = line.strip()
    return bool(stripped) and stripped[-1] not in ".!?;:," and len(stripped.split()) <= 12


def list_scope(doc: Document, sentence_spans: Sequence[tuple[int, int]]) -> list[tuple[Entity, Entity, str]]:
    """D7: a lead-in (a line ending in ':', a heading over bullet items, a "Key terms of X include" line, a
    colon inside a sentence) that names an agreement makes the tariffs of the items under it part_of that
    agreement; a lead-in naming one actor and no agreement makes them imposed by that actor."""
    text = doc.text
    ents = sorted(doc.entities, key=lambda e: e.start)
    lines = line_spans(text)
    out: list[tuple[Entity, Entity, str]] = []

    def in_range(label, a, b):
        return [e for e in ents if e.label == label and e.start >= a and e.end <= b]

    def scope(lead_a, lead_b, body: list[tuple[int, int]]):
        agrs = in_range("AGREEMENT", lead_a, lead_b)
        if agrs:
            agr = agrs[-1]
            for a, b in body:
                for t in in_range("TARIFF", a, b):
                    out.append((t, agr, "part_of"))
            return
        actors = in_range("ACTOR", lead_a, lead_b)
        lead = text[lead_a:lead_b].lower()
        if (
            actors
            and len({_referent(a) for a in actors}) == 1
            and (
                re.search(r"\b(will|would|shall)\s*:?\s*$", lead)
                or any(w in LEMMAS and LEMMAS[w] in TARIFF_VERBS for w in re.findall(r"[a-z]+", lead))
            )
        ):
            for a, b in body:
                tariffs = in_range("TARIFF", a, b)
                if tariffs:
                    out.append((actors[-1], tariffs[0], "imposes"))

    def items_after(k: int) -> list[tuple[int, int]]:
        """The item lines right after line ``k`` (also after an item ending in ':', a nested list)."""
        body = []
        for a, b in lines[k + 1 :]:
            if not ITEM_LINE.match(text[a:b]):
                break
            body.append((a, b))
        return body

    for k, (a, b) in enumerate(lines):
        line = text[a:b]
        if line.rstrip().endswith(":"):
            scope(a, b, items_after(k))
            continue
        match = _KEY_TERMS.search(line)
        if match:
            split = a + match.end()
            scope(a, split, [(split, b), *items_after(k)])
            continue
        if _is_heading(line) and not ITEM_LINE.match(line):  # a heading over its items ("Ecuador framework")
            scope(a, b, items_after(k))
            continue
        # a colon inside a sentence scopes the rest of that sentence
        for m in re.finditer(r":\s", line):
            colon = a + m.start()
            sent = next(((s, e) for s, e in sentence_spans if s <= colon < e), None)
            if sent is None:
                continue
            agrs = in_range("AGREEMENT", sent[0], colon)
            if agrs:
                scope(sent[0], colon, [(colon + 1, sent[1])])
    return out


class RelationRuleSystem(System):
    """Rule-based relation extraction over the documents' own entities (see the module docstring)."""

    name = "re-rules"
    task = "re"
    config_class = RelationRulesConfig

    def __init__(self, config: RelationRulesConfig | None = None) -> None:
        super().__init__(config)
        self._matcher: RelationMatcher | None = None

    def fit(self, train: Sequence[Document], dev: Sequence[Document] | None = None) -> RelationRuleSystem:
        return self

    @property
    def matcher(self) -> RelationMatcher:
        if self._matcher is None:
            self._matcher = RelationMatcher(self.config.pipeline)
        return self._matcher

    def predict(self, docs: Sequence[Document]) -> list[Document]:
        return self.predict_parsed(docs, parse_documents(docs, self.config.pipeline))

    def predict_parsed(self, docs: Sequence[Document], parsed: Sequence[list[ParsedSentence]]) -> list[Document]:
        """:meth:`predict` over the sentences :func:`parse_documents` gave for ``docs``."""
        return [self._predict_doc(doc, sents) for doc, sents in zip(docs, parsed, strict=True)]

    def _predict_doc(self, doc: Document, sents: list[ParsedSentence]) -> Document:
        found: list[tuple[Entity, Entity, str, int, bool]] = []  # head, tail, label, sentence, distinct
        for k, sent in enumerate(sents):
            for h, t, label, rule in self.matcher.candidates(sent.sdoc):
                distinct = rule.endswith(":distinct")
                head_tok, tail_tok = sent.sdoc[h], sent.sdoc[t]
                head, tail = sent.ents.get(h), sent.ents.get(t)
                if label == "targets" and tail is None and head is not None:
                    if tail_tok.lower_ in DEMONYMS:
                        tail = _demonym_actor(tail_tok, sent, head, doc)
                    elif tail_tok.lower_ in ("other", "each"):
                        for a in _reciprocal_actors(tail_tok, head_tok):
                            if a.i in sent.ents:
                                found.append((head, sent.ents[a.i], label, k, False))
                        continue
                if head is None or tail is None:
                    continue
                found.append((head, tail, label, k, distinct))
        if self.config.list_scope:
            spans = [(s.start, s.end) for s in sents]
            for head, tail, label in list_scope(doc, spans):
                k = next((i for i, s in enumerate(sents) if s.start <= head.start < s.end), -1)
                found.append((head, tail, label, k, False))
        relations = self._select(found)
        return doc.with_annotations(doc.entities, relations)

    def _select(self, found: list[tuple[Entity, Entity, str, int, bool]]) -> list[Relation]:
        allowed = {
            "party_to": ("ACTOR", "AGREEMENT"),
            "imposes": ("ACTOR", "TARIFF"),
            "targets": ("TARIFF", "ACTOR"),
            "part_of": ("TARIFF", "AGREEMENT"),
        }
        best: dict[tuple, tuple[int, Entity, Entity, str]] = {}
        for head, tail, label, k, distinct in found:
            if label not in self.config.labels or (head.label, tail.label) != allowed[label]:
                continue
            if head.id == tail.id:
                continue
            if self.config.closest_pair:
                key = (k, label, _referent(head), tail.id if distinct else _referent(tail))
            else:
                key = (k, label, head.id, tail.id)
            dist = max(head.start, tail.start) - min(head.end, tail.end)
            if key not in best or dist < best[key][0]:
                best[key] = (dist, head, tail, label)
        rels, seen = [], set()
        for _dist, head, tail, label in sorted(best.values(), key=lambda x: (x[1].start, x[2].start, x[3])):
            if (head.id, tail.id, label) in seen:
                continue
            seen.add((head.id, tail.id, label))
            rels.append(Relation(head.id, tail.id, label, score=1.0))
        return rels
