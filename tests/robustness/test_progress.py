"""Progress bars: drawn on standard error when it is a terminal, silent in pipes and CI logs.

In-process checks swap standard error for a stream that says it is a terminal; the slow tests run
`tradeie train ner` with standard error on a real pseudo-terminal, and on a pipe with CI=true.
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys

import pytest

from robustness.toy_runs import build_toy_dataset, toy_documents, train_ner_argv
from tradeie.cli import main
from tradeie.progress import progress, progress_bar, show_progress


class Terminal(io.StringIO):
    """A standard error that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def attach_terminal(monkeypatch) -> Terminal:
    """Standard error is a terminal; neither CI nor TRADEIE_PROGRESS set.

    (Called in the test body: pytest puts its own capture stream back between a fixture's setup and the call.)
    """
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TRADEIE_PROGRESS", raising=False)
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return build_toy_dataset(tmp_path_factory.mktemp("progress") / "ds")


def test_the_rule_terminal_only_ci_off_and_the_override(monkeypatch):
    attach_terminal(monkeypatch)
    assert show_progress()
    monkeypatch.setenv("CI", "true")
    assert not show_progress()
    monkeypatch.setenv("TRADEIE_PROGRESS", "1")
    assert show_progress()
    monkeypatch.delenv("CI")
    monkeypatch.setenv("TRADEIE_PROGRESS", "0")
    assert not show_progress()
    monkeypatch.delenv("TRADEIE_PROGRESS")
    monkeypatch.setattr(sys, "stderr", Pipe())
    assert not show_progress()


def test_bars_draw_on_a_terminal_and_notes_are_logged_without_one(monkeypatch, caplog):
    terminal = attach_terminal(monkeypatch)
    log = logging.getLogger("tradeie.test")
    assert list(progress(range(3), "items", total=3)) == [0, 1, 2]
    with progress_bar("steps", total=2, unit="step") as bar:
        assert bar.active
        bar.note("halfway", log)
        bar.update(2)
    drawn = terminal.getvalue()
    assert "items:" in drawn and "0/3" in drawn and "steps:" in drawn and "halfway" in drawn  # tqdm: at most 10 draws/s
    assert not caplog.records  # shown in the bar, not logged

    monkeypatch.setenv("CI", "true")
    terminal.seek(0)
    terminal.truncate()
    with caplog.at_level(logging.INFO, logger="tradeie.test"):
        assert list(progress(range(3), "items")) == [0, 1, 2]
        with progress_bar("steps", total=2) as bar:
            assert not bar.active
            bar.note("halfway", log)
            bar.update(2)
            bar.set_postfix("F1 1.0")
    assert terminal.getvalue() == ""
    assert [r.getMessage() for r in caplog.records] == ["halfway"]


def test_training_draws_a_step_bar_on_a_terminal_and_logs_epochs_in_ci(
    monkeypatch, caplog, capsys, dataset, tiny_model, repo_root, tmp_path
):
    terminal = attach_terminal(monkeypatch)
    argv = train_ner_argv(dataset, tmp_path / "tty", tiny_model, repo_root, "epochs=2", "progress_bars=true")
    assert main(argv) == 0
    drawn = terminal.getvalue()
    assert "train ner" in drawn and "step" in drawn and "validation F1" in drawn
    out = capsys.readouterr().out
    assert out.startswith("saved ner to ") and "{" not in out  # no Trainer log dicts on standard output

    monkeypatch.setenv("CI", "true")
    terminal.seek(0)
    terminal.truncate()
    with caplog.at_level(logging.INFO, logger="tradeie.training.common"):
        argv = train_ner_argv(dataset, tmp_path / "ci", tiny_model, repo_root, "epochs=2", "progress_bars=true")
        assert main(argv) == 0
    assert terminal.getvalue() == ""
    epochs = [r.getMessage() for r in caplog.records if "validation F1" in r.getMessage()]
    assert [m.split(":")[1].strip() for m in epochs] == ["epoch 1/2", "epoch 2/2"]
    assert capsys.readouterr().out.startswith("saved ner to ")


class _Nothing:
    """A system that predicts no entity (cheap to fit; cross-validation and comparison only count)."""

    name = "nothing"
    relations = False
    task = "ner"

    def fit(self, train, dev_or_work_dir=None):
        return self

    def predict(self, docs):
        return [d.with_annotations((), ()) for d in docs]


def test_cross_validation_and_comparison_draw_bars_on_a_terminal(monkeypatch, caplog):
    terminal = attach_terminal(monkeypatch)
    import tradeie.evaluation.compare as compare
    from tradeie.evaluation.experiments import run_cv

    docs = toy_documents(4)
    run_cv(docs, [_Nothing()], k=2, learning_curve=[1], n_resamples=0)
    drawn = terminal.getvalue()
    assert "cv: 2 folds" in drawn and "/4 [" in drawn  # 2 folds + 2 learning-curve fits

    monkeypatch.setattr(compare, "_fit", lambda name, train, dev, overrides: (_Nothing(), 0.0))
    splits = {"train": docs[:2], "validation": docs[2:], "test": []}
    compare.compare_systems(splits, ["a", "b"], n_resamples=0)
    assert "compare on validation" in terminal.getvalue() and "0/2 [" in terminal.getvalue()

    monkeypatch.setenv("CI", "true")
    terminal.seek(0)
    terminal.truncate()
    with caplog.at_level(logging.INFO, logger="tradeie.evaluation.experiments"):
        run_cv(docs, [_Nothing()], k=2, n_resamples=0)
        compare.compare_systems(splits, ["a"], n_resamples=0)
    assert terminal.getvalue() == ""
    assert any(r.getMessage().startswith("fold 1/2: nothing") for r in caplog.records)


# --------------------------------------------------------------------------- a real terminal, a real pipe

LOG_LINE = re.compile(r"^((DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+:|\[transformers\]) ")  # ours, transformers'


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TRADEIE_PROGRESS")}
    return {**env, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": os.pathsep.join(sys.path), **extra}


def _tradeie(argv) -> list[str]:
    return [sys.executable, "-m", "tradeie.cli", *[str(a) for a in argv]]


@pytest.mark.slow  # two short training processes: 20 to 40 s
def test_a_real_terminal_gets_bars_and_a_ci_pipe_gets_log_lines_only(dataset, tiny_model, repo_root, tmp_path):
    import fcntl
    import pty
    import struct
    import termios
    import threading

    argv = train_ner_argv(dataset, tmp_path / "tty", tiny_model, repo_root, "epochs=2", "progress_bars=true")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other end closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.run(_tradeie(argv), stdout=subprocess.PIPE, stderr=slave, env=_env(), timeout=600)
    os.close(slave)
    reader.join(timeout=30)
    os.close(master)
    assert proc.returncode == 0
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert "train ner" in terminal and "step" in terminal and "\r" in terminal  # a bar, redrawn in place
    assert proc.stdout.decode().startswith("saved ner to ")

    argv = train_ner_argv(dataset, tmp_path / "ci", tiny_model, repo_root, "epochs=2", "progress_bars=true")
    proc = subprocess.run(_tradeie(argv), capture_output=True, text=True, env=_env(CI="true"), timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "\r" not in proc.stderr and lines, proc.stderr
    assert all(LOG_LINE.match(line) for line in lines), [line for line in lines if not LOG_LINE.match(line)]
    assert any("train ner: epoch 2/2: validation F1" in line for line in lines)
    assert proc.stdout.startswith("saved ner to ") and "{" not in proc.stdout
