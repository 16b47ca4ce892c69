"""Two pulls racing on one gold folder: a lock serialises them; the gold is never corrupted."""

from __future__ import annotations

import threading

import pytest

from robustness.helpers import ls_task, region
from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.labelstudio.format import read_export
from tradeie.labelstudio.merge import gold_lock, merge_pulled

TEXT = "India and Japan signed a trade deal."
CORPUS = [Document("d1", TEXT)]


def _tasks(surface: str) -> list[dict]:
    start = TEXT.index(surface)
    return [ls_task(TEXT, [region("a", TEXT, start, start + len(surface), "ACTOR")], doc_id="d1")]


def test_a_second_pull_waits_for_the_lock_then_fails_clearly_and_changes_nothing(tmp_path):
    gold = tmp_path / "gold"
    merge_pulled(_tasks("India"), CORPUS, gold)
    before = sorted((p.name, p.read_bytes()) for p in gold.iterdir())
    with gold_lock(gold):
        with pytest.raises(TradeieError) as exc:
            merge_pulled(_tasks("Japan"), CORPUS, gold, lock_timeout=0.3)
    assert "another `tradeie ls pull` still holds its lock" in str(exc.value) and "nothing was changed" in str(
        exc.value
    )
    assert sorted((p.name, p.read_bytes()) for p in gold.iterdir()) == before
    assert not (tmp_path / "backups").exists()


def test_racing_pulls_run_one_after_the_other(tmp_path):
    gold = tmp_path / "gold"
    merge_pulled(_tasks("India"), CORPUS, gold)
    reports, errors = [], []

    def pull(surface: str) -> None:
        try:
            reports.append(merge_pulled(_tasks(surface), CORPUS, gold))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=pull, args=(s,)) for s in ("Japan", "India", "Japan", "India")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(p.name for p in gold.iterdir()) == ["d1.json"]  # one file, never a second copy
    [doc] = read_export(gold).documents
    assert len(doc.entities) == 1 and doc.entities[0].text in ("India", "Japan")
    changes = sum(len(r.replaced) for r in reports)
    backups = sorted((tmp_path / "backups").iterdir())
    assert len(backups) == changes  # every replacement was backed up first
