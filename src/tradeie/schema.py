"""The annotation schema: the one source of truth for labels and relations.

Everything else (Label Studio config, BIO tag lists, relation candidate
filters, dataset features, model label maps) is derived from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class EntityType:
    name: str
    definition: str
    color: str


@dataclass(frozen=True)
class RelationType:
    name: str
    head: str
    tail: str
    definition: str


ENTITY_TYPES: tuple[EntityType, ...] = (
    EntityType(
        "ACTOR",
        "A named participant: a person (name only, no title), a country or territory "
        "(including abbreviations and capital-city metonyms used for governments), or a "
        "government body or organisation.",
        "#1f77b4",
    ),
    EntityType(
        "AGREEMENT",
        "A mention of a specific agreement, deal, pact, treaty, framework agreement or "
        "memorandum between parties, named or described, including nominal back-references. "
        "Pre-modifiers + head noun; no determiner; party names excluded.",
        "#2ca02c",
    ),
    EntityType(
        "TARIFF",
        "A mention of a tariff or customs-duty measure, with its modifiers and rate when "
        "inside the same noun phrase; no determiner; the goods/target phrase excluded.",
        "#d62728",
    ),
)

RELATION_TYPES: tuple[RelationType, ...] = (
    RelationType(
        "party_to", "ACTOR", "AGREEMENT", "The actor is party to, negotiates, signs or concludes the agreement."
    ),
    RelationType(
        "imposes", "ACTOR", "TARIFF", "The actor announces, sets, applies, raises, cuts or removes the tariff."
    ),
    RelationType("targets", "TARIFF", "ACTOR", "The tariff falls on that actor's goods."),
    RelationType("part_of", "TARIFF", "AGREEMENT", "The tariff is a term of the agreement."),
)

ENTITY_LABELS: tuple[str, ...] = tuple(t.name for t in ENTITY_TYPES)
RELATION_LABELS: tuple[str, ...] = tuple(r.name for r in RELATION_TYPES)
NO_RELATION = "no_relation"
#: Relation classifier classes: the negative class first, then the schema's labels.
RELATION_CLASSES: tuple[str, ...] = (NO_RELATION, *RELATION_LABELS)
#: BIO tags in the exact order the dataset's ClassLabel uses.
BIO_TAGS: tuple[str, ...] = ("O",) + tuple(f"{prefix}-{label}" for label in ENTITY_LABELS for prefix in ("B", "I"))
#: (head type, tail type) -> relation labels allowed for that signature.
SIGNATURES: dict[tuple[str, str], tuple[str, ...]] = {}
for _rel in RELATION_TYPES:
    SIGNATURES.setdefault((_rel.head, _rel.tail), ())
    SIGNATURES[(_rel.head, _rel.tail)] += (_rel.name,)
RELATION_BY_NAME: dict[str, RelationType] = {r.name: r for r in RELATION_TYPES}


def allowed_relation(label: str, head_type: str, tail_type: str) -> bool:
    """True if ``label`` may link an entity of ``head_type`` to one of ``tail_type``."""
    rel = RELATION_BY_NAME.get(label)
    return rel is not None and rel.head == head_type and rel.tail == tail_type


def is_candidate_pair(head_type: str, tail_type: str) -> bool:
    """True if some relation label allows this (head, tail) type signature."""
    return (head_type, tail_type) in SIGNATURES


#: Names used in the Label Studio labeling config.
LS_TEXT_NAME = "text"
LS_LABELS_NAME = "label"
#: Per-region text field holding an entity's referent id (mentions of one entity share it).
LS_REFERENT_NAME = "referent"


def labeling_config() -> str:
    """The Label Studio labeling config (Text + Labels + Relations) for this schema."""
    quote = {chr(34): "&quot;"}
    labels = "\n".join(
        f'    <Label value="{escape(t.name)}" background="{t.color}" hint="{escape(t.definition, quote)}"/>'
        for t in ENTITY_TYPES
    )
    relations = "\n".join(f'    <Relation value="{escape(r.name)}"/>' for r in RELATION_TYPES)
    return (
        "<View>\n"
        f"  <Relations>\n{relations}\n  </Relations>\n"
        f'  <Labels name="{LS_LABELS_NAME}" toName="{LS_TEXT_NAME}">\n{labels}\n  </Labels>\n'
        f'  <Text name="{LS_TEXT_NAME}" value="${LS_TEXT_NAME}" granularity="symbol"/>\n'
        f'  <View visibleWhen="region-selected">\n'
        f'    <Header value="Referent (mentions of the same entity share one id, e.g. USA)"/>\n'
        f'    <TextArea name="{LS_REFERENT_NAME}" toName="{LS_TEXT_NAME}" perRegion="true" editable="true" '
        f'maxSubmissions="1" rows="1"/>\n'
        f"  </View>\n"
        "</View>\n"
    )
