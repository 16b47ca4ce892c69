"""Where gold documents come from: one source per evaluation, always named.

A source is a gold file (JSONL or a Label Studio export), a dataset folder
(one split, or every split but some), or the annotation folder joined with the
corpus. :func:`resolve_gold` takes what the user gave; when they gave nothing it
uses the command's default source and logs which one, and when that default is
absent it fails naming the flags to pass. It never picks between two given sources.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tradeie.annotations.gold import DEFAULT_CORPUS, DEFAULT_GOLD
from tradeie.document import Document
from tradeie.errors import TradeieError

log = logging.getLogger(__name__)

DEFAULT_DATASET = "dist/dataset"
#: Default sources: ``dataset`` (a split of dist/dataset) or ``annotations`` (annotations/gold + the corpus).
DEFAULTS = ("dataset", "annotations")


@dataclass(frozen=True)
class Gold:
    """Gold documents and where they came from (``source`` is said in titles and logs)."""

    documents: list[Document]
    source: str
    dataset: str | None = None
    split: str | None = None


def resolve_gold(
    gold: str | Path | None = None,
    dataset: str | Path | None = None,
    *,
    split: str | None = None,
    exclude_splits: Sequence[str] = (),
    corpus: str | Path | None = None,
    grouped: bool = False,
    default: str = "dataset",
    command: str = "evaluate",
) -> Gold:
    """The gold documents of ``--gold FILE`` or ``--dataset DIR`` (never both).

    With a dataset, ``split`` picks one split, else every split but
    ``exclude_splits``. ``grouped``: the documents must carry near-duplicate groups
    (cross-validation); a gold file gets them from ``corpus`` (by default the
    project corpus, when the file has none). With neither source, ``default``
    says which is used: ``dataset`` (``split`` of dist/dataset) or
    ``annotations`` (annotations/gold with ``corpus``).
    """
    if gold is not None and dataset is not None:
        raise TradeieError(f"{command}: give --gold or --dataset, not both")
    if gold is not None:
        return _gold_file(gold, corpus, grouped, command)
    if dataset is not None:
        return _dataset(dataset, split, exclude_splits)
    if default not in DEFAULTS:
        raise ValueError(f"default must be one of {DEFAULTS}, not {default!r}")
    fallback = DEFAULT_DATASET if default == "dataset" else DEFAULT_GOLD
    if not Path(fallback).exists():
        raise TradeieError(
            f"{command}: no --gold or --dataset given, and no {fallback} here to default to",
            hint="pass --gold FILE or --dataset DIR",
        )
    if default == "dataset":
        log.info("%s: no --gold or --dataset given: using %s", command, _describe(fallback, split, exclude_splits))
        return _dataset(fallback, split, exclude_splits)
    corpus = corpus or DEFAULT_CORPUS
    log.info("%s: no --gold or --dataset given: using %s with the corpus %s", command, fallback, corpus)
    from tradeie.annotations.gold import load_gold

    return Gold(load_gold(fallback, corpus), f"{fallback} with {corpus}")


def _describe(dataset: str | Path, split: str | None, exclude_splits: Sequence[str]) -> str:
    if split:
        return f"{dataset} ({split})"
    return f"{dataset} (every split but {', '.join(exclude_splits)})" if exclude_splits else f"{dataset} (every split)"


def _dataset(folder: str | Path, split: str | None, exclude_splits: Sequence[str]) -> Gold:
    if split:
        docs = load_dataset_split(folder, split)
        if not docs:
            raise TradeieError(f"{folder}: the {split} split is empty", hint="choose another --split")
    else:
        docs = [d for d in dataset_documents(folder) if d.meta.get("split") not in exclude_splits]
    return Gold(docs, _describe(folder, split, exclude_splits), str(folder), split)


def _gold_file(path: str | Path, corpus: str | Path | None, grouped: bool, command: str) -> Gold:
    from tradeie.evaluation.evaluate import load_gold_file

    docs = load_gold_file(path)
    has_groups = any(d.meta.get("near_duplicate_group") for d in docs)
    if grouped and corpus is None and not has_groups and Path(DEFAULT_CORPUS).exists():
        corpus = DEFAULT_CORPUS
        log.info("%s: %s carries no near-duplicate groups: taking them from %s", command, path, corpus)
    if grouped and corpus is not None:
        from tradeie.annotations.gold import attach_corpus
        from tradeie.corpus import load_corpus

        return Gold(attach_corpus(docs, load_corpus(corpus), str(path)), f"{path} with {corpus}")
    if grouped and not has_groups:
        raise TradeieError(
            f"{command}: {path} carries no near-duplicate groups, so near-copies could straddle folds",
            hint=f"pass --corpus {DEFAULT_CORPUS}",
        )
    return Gold(docs, str(path))


def dataset_documents(folder: str | Path) -> list[Document]:
    """Every document of a dataset folder (``tradeie dataset build --out``), its split in ``meta["split"]``."""
    from tradeie.data.dataset import documents_from_dataset, load_hub_folder

    return documents_from_dataset(load_hub_folder(folder, "documents"))


def dataset_splits(folder: str | Path) -> dict[str, list[Document]]:
    """Documents of a dataset folder per split (train, validation and test always present, maybe empty)."""
    from tradeie.data.splits import SPLIT_NAMES

    splits: dict[str, list[Document]] = {name: [] for name in SPLIT_NAMES}
    for doc in dataset_documents(folder):
        splits.setdefault(doc.meta.get("split") or "train", []).append(doc)
    return splits


def load_dataset_split(folder: str | Path, split: str) -> list[Document]:
    """Gold documents of one split of a dataset folder."""
    from tradeie.data.dataset import documents_from_dataset, load_hub_folder

    data = load_hub_folder(folder, "documents")
    if split not in data:
        raise TradeieError(f"{folder}: no split {split!r} (has {', '.join(data)})", hint="choose another --split")
    return documents_from_dataset(data[split])
