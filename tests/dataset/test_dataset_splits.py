"""Leakage-aware splits and grouped k-fold."""

from __future__ import annotations

import pytest

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.data.splits import SPLIT_NAMES, assign_splits, group_kfold, group_of, normalise_ratios, split_members


def _doc(doc_id: str, group: str | None = None) -> Document:
    return Document(id=doc_id, text="x", meta={"near_duplicate_group": group} if group else {})


def _groups_never_straddle(docs, assignment):
    by_group: dict[str, set[str]] = {}
    for d in docs:
        by_group.setdefault(group_of(d), set()).add(assignment[d.id])
    return all(len(s) == 1 for s in by_group.values())


def test_seed_corpus_keeps_near_duplicates_together_and_fills_every_split(docs):
    groups = {d.id: group_of(d) for d in docs}
    assert groups["000_d9c588e8c1f3d674"] == groups["001_d86403ddc6a3495e"], "corpus near-duplicate group"
    seen = set()
    for seed in range(40):
        assignment = assign_splits(docs, (0.5, 0.25, 0.25), seed)
        assert _groups_never_straddle(docs, assignment)
        members = split_members(assignment)
        assert all(members[s] for s in SPLIT_NAMES), (seed, members)
        assert members["train"] == ["000_d9c588e8c1f3d674", "001_d86403ddc6a3495e"]
        seen.add(tuple(members["test"]))
    assert len(seen) == 2, "the seed decides which singleton goes to test"


def test_deterministic_and_independent_of_input_order(docs):
    a = assign_splits(docs, (0.5, 0.25, 0.25), 7)
    assert assign_splits(list(reversed(docs)), (0.5, 0.25, 0.25), 7) == a
    assert assign_splits(docs, [2, 1, 1], 7) == a  # ratios are normalised


def test_ratios_are_respected_on_a_larger_collection():
    docs = [_doc(f"d{i:02d}") for i in range(20)] + [_doc(f"g{i}", "G") for i in range(3)]
    for seed in range(10):
        assignment = assign_splits(docs, (0.6, 0.2, 0.2), seed)
        assert _groups_never_straddle(docs, assignment)
        counts = {s: len(v) for s, v in split_members(assignment).items()}
        assert abs(counts["train"] - 0.6 * 23) <= 3 and abs(counts["validation"] - 0.2 * 23) <= 3
        assert sum(counts.values()) == 23


def test_few_groups_fill_train_then_test_then_validation():
    one = [_doc("a", "G"), _doc("b", "G")]
    assert set(assign_splits(one).values()) == {"train"}
    two = [_doc("a", "G"), _doc("b", "G"), _doc("c")]
    assert split_members(assign_splits(two)) == {"train": ["a", "b"], "validation": [], "test": ["c"]}
    three = [_doc("a"), _doc("b"), _doc("c")]
    assert all(split_members(assign_splits(three))[s] for s in SPLIT_NAMES)


def test_zero_ratio_split_stays_empty():
    docs = [_doc(f"d{i}") for i in range(6)]
    members = split_members(assign_splits(docs, (0.8, 0.0, 0.2)))
    assert members["validation"] == [] and members["test"] and members["train"]


@pytest.mark.parametrize("ratios", [(0.5, 0.5), (0.0, 0.5, 0.5), (0.5, -0.1, 0.6), ("a", 1, 1)])
def test_bad_ratios(ratios):
    with pytest.raises((TradeieError, ValueError)):
        normalise_ratios(ratios)


def test_group_kfold_tests_every_document_once_with_groups_together(docs):
    folds = group_kfold(docs, 3, seed=13)
    assert len(folds) == 3
    tested = [d for _, test in folds for d in test]
    assert sorted(tested) == sorted(d.id for d in docs)
    group = {d.id: group_of(d) for d in docs}
    for train, test in folds:
        assert test and not set(train) & set(test)
        assert sorted(train + test) == sorted(d.id for d in docs)
        assert not {group[d] for d in train} & {group[d] for d in test}
    assert group_kfold(list(reversed(docs)), 3, seed=13) == folds


def test_group_kfold_balances_and_uses_the_seed():
    docs = [_doc(f"d{i}") for i in range(6)] + [_doc("g1", "G"), _doc("g2", "G")]
    folds = group_kfold(docs, 2, seed=1)
    assert sorted(len(test) for _, test in folds) == [4, 4]
    assert len({tuple(f[1]) for s in range(20) for f in group_kfold(docs, 2, seed=s)}) > 2


def test_group_kfold_errors(docs):
    with pytest.raises(TradeieError, match="only 3 near-duplicate groups"):
        group_kfold(docs, 4)
    with pytest.raises(TradeieError, match="too small"):
        group_kfold(docs, 1)


def _origin_doc(doc_id: str, origin: str, group: str | None = None) -> Document:
    meta = {"origin": origin, **({"near_duplicate_group": group} if group else {})}
    return Document(id=doc_id, text="x", meta=meta)


def test_held_out_articles_always_go_to_test_and_leave_the_other_splits_unchanged():
    written = [_origin_doc(f"w{i:02d}", "written-for-dataset") for i in range(8)]
    seeds = [_origin_doc("s1", "real-news", "S"), _origin_doc("s2", "real-news", "S")]
    held = [_origin_doc("h01", "written-held-out"), _origin_doc("h02", "written-held-out")]
    before = assign_splits(written + seeds)
    after = assign_splits(written + seeds + held)
    assert after == {**before, "h01": "test", "h02": "test"}


def test_held_out_group_goes_to_test_whole_and_may_not_mix_with_train_only_documents():
    written = [_origin_doc(f"w{i:02d}", "written-for-dataset") for i in range(6)]
    group = [_origin_doc("h01", "written-held-out", "H"), _origin_doc("w99", "written-for-dataset", "H")]
    assignment = assign_splits(written + group)
    assert assignment["h01"] == assignment["w99"] == "test"
    clash = [_origin_doc("h01", "written-held-out", "S"), _origin_doc("s1", "real-news", "S")]
    with pytest.raises(TradeieError, match=r"document 'h01' \(written-held-out\) is a near-duplicate of 's1'"):
        assign_splits(written + clash)
