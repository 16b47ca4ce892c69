"""A build killed midway (SIGKILL: no handler, no cleanup) leaves the previous output as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robustness.helpers import marked_doc
from tradeie.cli import main

SENTENCE = (
    "[India|ACTOR|a{k}] signed the [trade deal|AGREEMENT|g{k}]. [Washington|ACTOR|b{k}] cut "
    "[tariffs|TARIFF|t{k}] on [Japan|ACTOR|c{k}] under the [pact|AGREEMENT|p{k}]."
)


def _write_inputs(root: Path, n: int) -> tuple[Path, Path]:
    """A corpus and a gold export of ``n`` documents of 10 annotated sentences each."""
    from tradeie.io.jsonl import write_documents
    from tradeie.labelstudio.format import to_tasks

    docs = []
    for i in range(n):
        marked = " ".join(SENTENCE.format(k=k) for k in range(10))
        relations = [r for k in range(10) for r in ((f"a{k}", f"g{k}", "party_to"), (f"b{k}", f"t{k}", "imposes"))]
        docs.append(marked_doc(f"doc{i:04d}", marked, relations))
    corpus = write_documents(root / "documents.jsonl", [d.with_annotations((), ()) for d in docs], "corpus")
    gold = root / "gold"
    gold.mkdir(exist_ok=True)
    (gold / "gold.json").write_text(json.dumps(to_tasks(docs)), encoding="utf-8")
    return gold, corpus


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _holds_a_file(folder: Path) -> bool:
    try:
        return any(p.is_file() for p in folder.rglob("*"))
    except OSError:  # renamed or removed while we looked
        return False


@pytest.mark.slow  # two dataset builds of 200 documents and a CLI start: about 15 s
def test_killed_dataset_build_leaves_the_previous_output_intact(tmp_path):
    from tradeie.data.dataset import load_hub_folder

    gold, corpus = _write_inputs(tmp_path, 200)
    out = tmp_path / "ds"
    build = ["dataset", "build", "--gold", str(gold), "--corpus", str(corpus), "--out", str(out)]
    assert main(["-q", *build]) == 0
    before = _snapshot(out)
    _write_inputs(tmp_path, 150)  # the next build would write something else

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradeie.cli", "-q", *build],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    half_written: list[Path] = []
    try:
        while proc.poll() is None and not half_written:  # kill once the new output is being written
            half_written = [d for d in tmp_path.glob(".ds.*.tmp") if _holds_a_file(d)]
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert half_written, "the build finished before it could be killed: make the inputs larger"
    assert proc.returncode == -signal.SIGKILL

    assert _snapshot(out) == before  # the previous output, byte for byte
    visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith((".", "tradeie-build-")))
    assert visible == ["documents.jsonl", "ds", "gold"]  # the half-written folder is a hidden temp folder only
    documents = load_hub_folder(out, "documents", cache_dir=str(tmp_path / ".cache"))
    assert sum(len(split) for split in documents.values()) == 200
    assert main(["-q", *build]) == 0  # a later build replaces it whole, the leftover notwithstanding
    after = _snapshot(out)
    assert sorted(after) == sorted(before) and after != before
