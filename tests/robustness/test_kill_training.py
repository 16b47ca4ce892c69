"""A real `tradeie train ner` process, SIGKILLed (no handler, no cleanup) once its first checkpoint is on
disk, leaves no model folder where `predict` reads one; `--resume` continues from that checkpoint."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robustness.helpers import cli_error
from robustness.toy_runs import build_toy_dataset, train_ner_argv
from tradeie.cli import main
from tradeie.training.common import checkpoint_dir, last_checkpoint

EPOCHS = 12


def _command() -> list[str]:
    """The installed console script beside this Python, else ``python -m tradeie.cli``."""
    script = Path(sys.executable).with_name("tradeie")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tradeie.cli"]


def _complete(checkpoint: str | None) -> bool:
    """A checkpoint whose trainer state (written last by the Trainer) is on disk and whole."""
    try:
        return checkpoint is not None and bool(json.loads((Path(checkpoint) / "trainer_state.json").read_text()))
    except (OSError, ValueError):
        return False


@pytest.mark.slow  # a training process started and killed, then resumed: 20 to 60 s
def test_sigkilled_training_leaves_no_model_and_resume_continues_from_the_checkpoint(
    tmp_path, tiny_model, repo_root, capsys, caplog
):
    dataset = build_toy_dataset(tmp_path / "ds")
    run = tmp_path / "run"
    argv = train_ner_argv(dataset, run, tiny_model, repo_root, f"epochs={EPOCHS}", "progress_bars=false")
    work = checkpoint_dir(run / "ner") / "seed-1"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": os.pathsep.join(sys.path)}
    log = tmp_path / "train.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*_command(), *argv], stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 300
            while proc.poll() is None and time.monotonic() < deadline and not _complete(last_checkpoint(work)):
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert code == -signal.SIGKILL, f"the run ended by itself ({code}) before it could be killed:\n{log.read_text()}"

    assert not (run / "ner").exists()  # nothing where predict and evaluate read a model
    assert [p.name for p in run.iterdir()] == [".ner.checkpoints"]  # only the hidden checkpoints
    text = tmp_path / "news.txt"
    text.write_text("India and Japan signed the trade deal.", encoding="utf-8")
    line = cli_error(capsys, ["predict", "--model", run, text])
    assert line.startswith(f"tradeie: error: {run}: no trained NER model")
    checkpoint = last_checkpoint(work)
    assert _complete(checkpoint)
    done = json.loads((Path(checkpoint) / "trainer_state.json").read_text())
    done_epochs = round(done["epoch"])
    assert 1 <= done_epochs < EPOCHS

    with caplog.at_level(logging.INFO, logger="tradeie.training.common"):
        assert main([*argv, "--resume"]) == 0
    assert f"seed 1: resuming from {checkpoint}" in caplog.messages
    metrics = json.loads((run / "ner" / "metrics.json").read_text())
    seed = metrics["seeds"][0]
    assert seed["epochs"] == EPOCHS and seed["steps"] == EPOCHS * done["global_step"] // done_epochs
    # only the epochs after the checkpoint ran again (the per-epoch timer sees this process's epochs)
    assert len(seed["timing"]["per_epoch"]) == EPOCHS - done_epochs
    assert not work.parent.exists()  # checkpoints removed once the run finished
    assert main(["-q", "predict", "--model", str(run), str(text), "--output", str(tmp_path / "preds.jsonl")]) == 0
