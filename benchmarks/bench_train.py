"""Training cost of every system ``make demo`` trains, and data-parallel scale-out.

Each command runs in its own process (wall time and its peak RSS); for the
transformer models the Trainer's ``trainer_state.json`` (when written) gives
the time spent in evaluation per epoch. The baseline is the same NER command
in one process, against which ``torchrun --nproc_per_node=2`` (gloo, CPU) is
compared.

    python benchmarks/bench_train.py [--epochs 2] [--dataset dist/dataset] [--no-ddp]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, set_threads, table  # noqa: E402

#: Runs ARGV in a child and prints its peak RSS (KiB) last, so each command's memory is its own.
WRAPPER = (
    "import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
    "print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(rc)"
)


def run(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB, stderr tail) of ``cmd``; raises on failure."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    rss = next(
        (int(line.split()[1]) / 1024 for line in reversed(proc.stderr.splitlines()) if line.startswith("PEAK_RSS_KIB")),
        float("nan"),
    )
    return seconds, rss, proc.stderr


def eval_share(folder: Path) -> tuple[float | None, float | None]:
    """(train runtime, evaluation seconds) from the newest ``trainer_state.json`` under ``folder``."""
    states = sorted(folder.rglob("trainer_state.json"), key=lambda p: p.stat().st_mtime)
    if not states:
        return None, None
    history = json.loads(states[-1].read_text())["log_history"]
    runtime = next((h["train_runtime"] for h in history if "train_runtime" in h), None)
    return runtime, sum(h.get("eval_runtime", 0.0) for h in history)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="dist/dataset")
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--no-ddp", action="store_true", help="skip the torchrun comparison")
    args = parser.parse_args(argv)
    set_threads(2)
    tradeie = str(Path(sys.executable).with_name("tradeie"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "2"}
    out = Path(tempfile.mkdtemp(prefix="tradeie-bench-train-"))
    common = ["--dataset", args.dataset]
    epochs = ["--set", f"epochs={args.epochs:g}", "--set", "progress_bars=false"]
    jobs = [
        (
            "NER transformer (tradeie train ner)",
            "ner",
            [tradeie, "train", "ner", "--config", "training/ner.toml", *common, *epochs, "--output", str(out / "one")],
        ),
        (
            "RE transformer (tradeie train re)",
            "re",
            [tradeie, "train", "re", "--config", "training/re.toml", *common, *epochs, "--output", str(out / "one")],
        ),
        (
            "CRF (tradeie train system crf)",
            None,
            [tradeie, "train", "system", "crf", *common, "--output", str(out / "crf")],
        ),
        (
            "relation rules (train system re-rules)",
            None,
            [tradeie, "train", "system", "re-rules", *common, "--output", str(out / "crf")],
        ),
    ]
    rows = []
    t_ner_one = None
    try:
        for name, sub, cmd in jobs:
            seconds, rss, _ = run(cmd, env)
            runtime, t_eval = eval_share(out / "one" / sub) if sub else (None, None)
            per_epoch = f"{seconds / args.epochs:.1f}" if sub else "-"
            share = f"{t_eval / seconds:.0%}" if t_eval is not None else "-"
            other = f"{(seconds - runtime) / seconds:.0%}" if runtime is not None else "-"
            rows.append([name, seconds, per_epoch, share, other, rss, "1.00x"])
            if sub == "ner":
                t_ner_one = seconds
        if not args.no_ddp:
            torchrun = str(Path(sys.executable).with_name("torchrun"))
            cmd = [
                torchrun,
                "--nproc_per_node=2",
                "--standalone",
                tradeie,
                "train",
                "ner",
                "--config",
                "training/ner.toml",
                *common,
                *epochs,
                "--set",
                "num_threads=1",
                "--output",
                str(out / "ddp"),
            ]
            seconds, rss, _ = run(cmd, env)
            rows.append(
                [
                    "NER transformer, torchrun --nproc_per_node=2 (gloo)",
                    seconds,
                    f"{seconds / args.epochs:.1f}",
                    "-",
                    "-",
                    rss,
                    f"{t_ner_one / seconds:.2f}x",
                ]
            )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"machine: {machine()}")
    print(f"epochs: {args.epochs:g}, dataset: {args.dataset}")
    print(
        table(
            [
                "training command",
                "seconds (total)",
                "s/epoch",
                "eval share",
                "start-up + checkpoint + other share",
                "peak RSS MiB (largest process)",
                "speed-up over one process",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
