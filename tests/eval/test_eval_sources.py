"""Where gold comes from: one source per evaluation, a default only when none is given, and always named."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from tradeie.errors import TradeieError
from tradeie.evaluation.sources import dataset_splits, resolve_gold


def test_a_gold_file(tmp_path, toy_docs, write_docs):
    path = write_docs(tmp_path / "gold.jsonl", toy_docs[:2])
    gold = resolve_gold(path)
    assert (gold.source, gold.dataset, gold.split) == (str(path), None, None)
    assert [d.id for d in gold.documents] == ["t0", "t1"]


def test_a_dataset_split_or_every_split_but_some(project):
    gold = resolve_gold(dataset=project / "dist" / "dataset", split="test")
    assert [d.id for d in gold.documents] == ["t5"]
    assert (gold.source, gold.split) == (f"{project / 'dist' / 'dataset'} (test)", "test")
    rest = resolve_gold(dataset=project / "dist" / "dataset", exclude_splits=["test"])
    assert sorted(d.id for d in rest.documents) == ["t0", "t1", "t2", "t3", "t4"]
    assert rest.source.endswith("(every split but test)")
    splits = dataset_splits(project / "dist" / "dataset")
    assert {k: sorted(d.id for d in v) for k, v in splits.items()} == {
        "train": ["t0", "t1", "t2", "t3"],
        "validation": ["t4"],
        "test": ["t5"],
    }


def test_the_default_dataset_is_said(project, monkeypatch, caplog):
    monkeypatch.chdir(project)
    with caplog.at_level(logging.INFO, logger="tradeie.evaluation.sources"):
        gold = resolve_gold(split="validation")
    assert [d.id for d in gold.documents] == ["t4"] and gold.source == "dist/dataset (validation)"
    assert caplog.messages == ["evaluate: no --gold or --dataset given: using dist/dataset (validation)"]


@pytest.mark.parametrize("default, missing", [("dataset", "dist/dataset"), ("annotations", "annotations/gold")])
def test_a_missing_default_fails_naming_the_flags(tmp_path, monkeypatch, default, missing):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TradeieError) as exc:
        resolve_gold(split="test", default=default, command="cv")
    assert str(exc.value) == (
        f"cv: no --gold or --dataset given, and no {missing} here to default to "
        "(fix: pass --gold FILE or --dataset DIR)"
    )


def test_two_sources_are_refused(tmp_path):
    with pytest.raises(TradeieError, match="^cv: give --gold or --dataset, not both$"):
        resolve_gold(tmp_path / "g.jsonl", tmp_path / "d", command="cv")


def test_near_duplicate_groups_for_cross_validation(project, tmp_path, toy_docs, write_docs, monkeypatch, caplog):
    bare = [replace(d, meta={"sentences": d.meta["sentences"]}) for d in toy_docs]
    path = write_docs(tmp_path / "bare.jsonl", bare)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TradeieError, match="carries no near-duplicate groups, so near-copies could straddle folds"):
        resolve_gold(path, grouped=True, command="cv")
    assert resolve_gold(path).documents == bare  # scoring alone needs no groups
    monkeypatch.chdir(project)
    with caplog.at_level(logging.INFO, logger="tradeie.evaluation.sources"):
        gold = resolve_gold(path, grouped=True, command="cv")
    assert [d.meta["near_duplicate_group"] for d in gold.documents] == ["t0", "t0", "t2", "t3", "t4", "t4"]
    assert gold.source == f"{path} with corpus/documents.jsonl"
    assert caplog.messages == [f"cv: {path} carries no near-duplicate groups: taking them from corpus/documents.jsonl"]
