"""The dataset card: huggingface_hub's card API rendering ``templates/dataset_card.md``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tradeie.document import Document
from tradeie.data.relcands import gold_relations_outside_window, marker_tokens
from tradeie.schema import BIO_TAGS, ENTITY_LABELS, ENTITY_TYPES, RELATION_CLASSES, RELATION_LABELS, RELATION_TYPES
from tradeie.data.splits import SPLIT_NAMES, group_of

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "dataset_card.md"
DEFAULT_PRETTY_NAME = "tradeie: trade agreements, tariffs and critical minerals NER/RE"
DEFAULT_LICENSE = "other"
DEFAULT_LICENSE_NAME = "annotations-cc-by-4.0-texts-publishers"
DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_TOPIC = (
    "trade agreements, tariffs and critical-minerals supply chains, mostly between the United States and India"
)
LICENSE_NOTE_OTHER = (
    "Licence: the annotations are released under CC BY 4.0; the article texts remain the copyright of "
    "their publishers and are included for research on information extraction. Check that your use is "
    "permitted before redistributing the texts."
)
#: The card lists every document (and every split's document ids) up to this many documents; a larger
#: corpus gets counts, and its per-document table is the ``documents`` config itself.
DOCUMENT_TABLE_LIMIT = 1000
_AGREEMENT_HEADING = re.compile(
    r"^(#{1,6})\s+.*(inter[- ]?annotator|annotator agreement|agreement figures)", re.IGNORECASE | re.MULTILINE
)


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` value for ``n`` examples."""
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return name
    return "n>1T" if n > 10**12 else "10M<n<100M"


def agreement_section(guidelines_text: str) -> str:
    """The inter-annotator agreement section of the guidelines (heading demoted to ###), or ''."""
    match = _AGREEMENT_HEADING.search(guidelines_text)
    if not match:
        return ""
    level = len(match.group(1))
    line_end = guidelines_text.find("\n", match.end())
    rest = "" if line_end < 0 else guidelines_text[line_end + 1 :]
    end = re.search(rf"^#{{1,{level}}}\s", rest, re.MULTILINE)
    body = rest[: end.start() if end else len(rest)].strip()
    return f"### Inter-annotator agreement (from GUIDELINES.md)\n\n{body}" if body else ""


def window_text(window: int) -> str:
    """How far apart a candidate pair's mentions may be, in words."""
    return "in the same sentence" if window == 0 else f"at most {window} sentence{'s' if window > 1 else ''} apart"


def guidelines_markdown() -> str:
    """A GUIDELINES.md generated from the schema (used when annotations/GUIDELINES.md is absent)."""
    lines = ["# Annotation guidelines", "", "Generated from the tradeie annotation schema.", "", "## Entity labels", ""]
    lines += [f"- **{t.name}**: {t.definition}" for t in ENTITY_TYPES]
    lines += [
        "",
        "Spans are flat and non-overlapping, start and end on token boundaries, and never "
        "include a leading determiner or surrounding whitespace.",
        "",
        "## Relations",
        "",
    ]
    lines += [f"- **{r.name}** ({r.head} -> {r.tail}): {r.definition}" for r in RELATION_TYPES]
    lines += ["", "Link each relation once, between the closest pair of mentions that expresses it.", ""]
    return "\n".join(lines)


def _imbalance(total: dict[str, Any]) -> str:
    spans = ", ".join(f"{total['spans'][label]} {label}" for label in ENTITY_LABELS)
    relations = ", ".join(f"{total['relations'][label]} {label}" for label in RELATION_LABELS)
    negatives = total["candidates"].get("no_relation", 0)
    positives = sum(v for k, v in total["candidates"].items() if k != "no_relation")
    return (
        f"entity spans: {spans}; relations: {relations}; relation candidates: {positives} positive vs "
        f"{negatives} `no_relation`"
    )


def make_card(
    *,
    metadata: dict[str, Any],
    stats: dict[str, Any],
    stats_markdown: str,
    docs: Sequence[Document],
    assignment: dict[str, str],
    seed: int,
    ratios: Sequence[float],
    window: int,
    fingerprint: str,
    guidelines_text: str = "",
    features: dict[str, str] | None = None,
    repo_id: str | None = None,
    pretty_name: str = DEFAULT_PRETTY_NAME,
    license: str = DEFAULT_LICENSE,
    license_name: str | None = DEFAULT_LICENSE_NAME,
    model_id: str = DEFAULT_MODEL_ID,
    citation_author: str = "tradeie contributors",
    topic: str = DEFAULT_TOPIC,
    outside_window: int | None = None,
    agreement: str | None = None,
):
    """Render the dataset card (a :class:`huggingface_hub.DatasetCard`).

    ``metadata`` carries the ``configs`` / ``dataset_info`` YAML entries of
    :func:`tradeie.data.dataset.hub_metadata`; ``agreement`` (markdown) defaults to
    the agreement section of the guidelines.
    """
    from huggingface_hub import DatasetCard, DatasetCardData

    total = stats["total"]
    largest = max(
        (sum(s.get("num_examples", 0) for s in info.get("splits", [])) for info in _as_list(metadata["dataset_info"])),
        default=0,
    )
    extra = {"license_name": license_name} if license == "other" and license_name else {}
    card_data = DatasetCardData(
        language=["en"],
        license=license,
        pretty_name=pretty_name,
        annotations_creators=["expert-generated"],
        language_creators=["found"],
        multilinguality=["monolingual"],
        source_datasets=["original"],
        size_categories=[size_category(largest)],
        task_categories=["token-classification"],
        task_ids=["named-entity-recognition"],
        tags=["relation-extraction", "trade", "tariffs", "critical-minerals", "news"],
        configs=metadata["configs"],
        dataset_info=metadata["dataset_info"],
        **extra,
    )
    if outside_window is None:
        outside_window = sum(len(gold_relations_outside_window(d, window)) for d in docs)
    dates = sorted({d.meta.get("date") for d in docs if d.meta.get("date")})
    listed = len(docs) <= DOCUMENT_TABLE_LIMIT
    documents = [_document_entry(d, assignment) for d in docs] if listed else []
    per_origin: dict[str, list[int]] = {}
    for d in docs:
        split = assignment.get(d.id, "")
        counts = per_origin.setdefault(d.meta.get("origin") or "", [0] * len(SPLIT_NAMES))
        if split in SPLIT_NAMES:
            counts[SPLIT_NAMES.index(split)] += 1
    origin_counts = sorted(per_origin.items())
    members = {s: sorted(i for i, split in assignment.items() if split == s) for s in SPLIT_NAMES}
    if agreement is None:
        agreement = agreement_section(guidelines_text) or (
            "No agreement figures were found in GUIDELINES.md (no inter-annotator agreement section)."
        )
    year = dates[-1][:4] if dates else ""
    data_path = repo_id or "path/to/this/folder"
    return DatasetCard.from_template(
        card_data,
        template_path=str(TEMPLATE),
        total=total,
        n_spans=sum(total["spans"].values()),
        n_relations=sum(total["relations"].values()),
        n_groups=len({group_of(d) for d in docs}),
        window=window,
        window_text=window_text(window),
        features=features or {},
        bio_tags=BIO_TAGS,
        markers=marker_tokens(),
        relation_classes=RELATION_CLASSES,
        entity_types=ENTITY_TYPES,
        relation_types=RELATION_TYPES,
        outside_window=outside_window,
        stats_markdown=stats_markdown,
        documents=documents,
        origin_counts=origin_counts,
        split_names=SPLIT_NAMES,
        agreement=agreement,
        ratios_text=" / ".join(f"{r:g}" for r in ratios),
        seed=seed,
        assignment=[(s, members[s]) for s in SPLIT_NAMES],
        listed=listed,
        document_table_limit=DOCUMENT_TABLE_LIMIT,
        fingerprint=fingerprint,
        date_range=f"{dates[0]} to {dates[-1]}" if len(dates) > 1 else (dates[0] if dates else ""),
        imbalance=_imbalance(total),
        topic=topic,
        license_note=LICENSE_NOTE_OTHER if license == "other" else f"Licence: {license}.",
        data_path=data_path,
        model_id=model_id,
        citation_key=re.sub(r"\W+", "_", (repo_id or "tradeie_dataset").split("/")[-1]).strip("_").lower(),
        citation_author=citation_author,
        citation_year=year,
        citation_url=f"https://huggingface.co/datasets/{repo_id}" if repo_id else "",
    )


def _document_entry(d: Document, assignment: dict[str, str]) -> dict[str, Any]:
    """One row of the card's per-document table."""
    return {
        "id": d.id,
        "split": assignment.get(d.id, ""),
        "date": d.meta.get("date") or "",
        "source": d.meta.get("source") or "",
        "file": d.meta.get("file") or "",
        "origin": d.meta.get("origin") or "",
        "sha256": d.meta.get("sha256") or "",
        "group": d.meta.get("near_duplicate_group") or d.id,
        "entities": len(d.entities),
        "relations": len(d.relations),
    }


def _as_list(value) -> list[dict]:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- model repository card

RUN_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "run_card.md"


def make_run_card(
    *,
    repo_id: str,
    run_name: str,
    members: Sequence[dict[str, Any]],
    spacy_pipeline: dict[str, Any] | None = None,
    dataset_name: str | None = None,
):
    """The ``README.md`` of a model repository holding a whole run (``tradeie push model``).

    ``members``: ``{"folder", "task", "kind", "load", "transformers", "metrics"}`` per member
    folder. The ``model-index`` holds every scored split of every member (strict
    precision/recall/F1), as huggingface_hub's eval-results parser reads it.
    """
    from huggingface_hub import ModelCard, ModelCardData

    from tradeie.evaluation.report import held_out_results, held_out_rows

    dataset = dataset_name or "tradeie"
    rows, results = [], []
    for m in members:
        member_rows = [{**row, "member": m["folder"]} for row in held_out_rows(m["task"], m.get("metrics") or {})]
        rows += member_rows
        results += held_out_results(member_rows, dataset=dataset, source=m["folder"], label=m["folder"])
    transformer_ner = next((m["folder"] for m in members if m["task"] == "ner" and m.get("transformers")), None)
    data = ModelCardData(
        model_name=repo_id.split("/")[-1],
        language="en",
        license="apache-2.0",
        library_name="transformers" if transformer_ner else None,
        pipeline_tag="token-classification",
        tags=["tradeie", "ner", "relation-extraction", "trade"],
        metrics=["precision", "recall", "f1"],
        eval_results=results or None,
        datasets=[dataset_name] if dataset_name and "/" in dataset_name else None,
    )
    return ModelCard.from_template(
        data,
        template_path=str(RUN_TEMPLATE),
        model_name=data.model_name,
        repo_id=repo_id,
        run_name=run_name,
        members=list(members),
        spacy_pipeline=spacy_pipeline,
        transformer_ner=transformer_ner,
        results_rows=rows,
    )
