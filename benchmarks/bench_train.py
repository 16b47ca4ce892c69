"""Training cost of every system ``make demo`` trains, the transformer's epoch costs, and scale-out.

Each command runs in its own process (wall time, and its peak RSS through a
small wrapper):

* ``tradeie train system crf`` and ``tradeie train system re-rules`` (what
  ``make demo`` trains);
* ``tradeie train ner`` (the MiniLM-L6 transformer) for ``--epochs``: the run's
  ``metrics.json["timing"]`` (:mod:`tradeie.training.timing`) gives seconds of
  training steps, evaluation and checkpoint writing per epoch and their shares of
  the training time, to which the process's start-up (imports, data, model
  loading) and final scoring add; ``--re-transformer`` adds ``tradeie train re``;
* unless ``--no-ddp``, the same NER command under ``torchrun --nproc_per_node=2``
  (gloo on CPU, one thread per process) against the one-process run (two threads);
* with ``--make-demo``, ``make demo RUN=bench-demo`` end to end after
  installation (it rebuilds ``corpus/documents.jsonl`` and ``dist/dataset``,
  identical for the same inputs, and removes its run and report afterwards).

    python benchmarks/bench_train.py [--epochs 1] [--dataset dist/dataset] [--no-ddp] [--make-demo]
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
ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB of the largest process, stderr) of ``cmd``; exits on failure."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *cmd], env=env, capture_output=True, text=True, cwd=cwd, check=False
    )
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    rss = next(
        (int(line.split()[1]) / 1024 for line in reversed(proc.stderr.splitlines()) if line.startswith("PEAK_RSS_KIB")),
        float("nan"),
    )
    return seconds, rss, proc.stderr


def epoch_timing(model_dir: Path) -> dict | None:
    """``metrics.json["timing"]`` of a trained transformer (None when absent)."""
    path = model_dir / "metrics.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get("timing")


def pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def transformer_row(name: str, seconds: float, rss: float, timing: dict | None, speedup: str) -> list:
    """Process seconds; per-epoch seconds of steps / eval / save; shares of the process time."""
    if not timing or not timing.get("epochs"):
        return [name, seconds, "-", "-", "-", "-", "-", "-", "-", rss, speedup]
    n = timing["epochs"]
    per_epoch = (timing["steps_seconds"] + timing["eval_seconds"] + timing["save_seconds"]) / n
    rest = seconds - (timing["steps_seconds"] + timing["eval_seconds"] + timing["save_seconds"])  # start-up etc.
    return [
        name,
        seconds,
        per_epoch,
        timing["steps_seconds"] / n,
        timing["eval_seconds_per_epoch"],
        timing["save_seconds_per_epoch"],
        pct(timing["eval_seconds"] / seconds),
        pct(timing["save_seconds"] / seconds),
        pct(rest / seconds),
        rss,
        speedup,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="dist/dataset")
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--no-ddp", action="store_true", help="skip the torchrun comparison")
    parser.add_argument("--re-transformer", action="store_true", help="also time `tradeie train re`")
    parser.add_argument("--make-demo", action="store_true", help="also time `make demo` end to end")
    args = parser.parse_args(argv)
    set_threads(2)
    bin_dir = Path(sys.executable).parent
    tradeie = str(bin_dir / "tradeie")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "2"}
    out = Path(tempfile.mkdtemp(prefix="tradeie-bench-train-"))
    common = ["--dataset", args.dataset]
    epochs = ["--set", f"epochs={args.epochs:g}", "--set", "progress_bars=false"]
    ner_cmd = [tradeie, "train", "ner", "--config", "training/ner.toml", *common, *epochs]
    systems = [
        ("CRF (tradeie train system crf)", [tradeie, "train", "system", "crf", *common, "--output", str(out / "crf")]),
        (
            "relation rules (tradeie train system re-rules)",
            [tradeie, "train", "system", "re-rules", *common, "--output", str(out / "crf")],
        ),
    ]
    system_rows, transformer_rows, extra = [], [], []
    loads = [os.getloadavg()[0]]
    try:
        for name, cmd in systems:
            seconds, rss, _ = run(cmd, env)
            system_rows.append([name, seconds, rss, f"{os.getloadavg()[0]:.1f}"])
        seconds, rss, _ = run([*ner_cmd, "--output", str(out / "one")], env)
        t_one = seconds
        transformer_rows.append(
            transformer_row(
                "NER transformer, one process (2 threads)", seconds, rss, epoch_timing(out / "one" / "ner"), "1.00x"
            )
        )
        loads.append(os.getloadavg()[0])
        if args.re_transformer:
            cmd = [
                tradeie,
                "train",
                "re",
                "--config",
                "training/re.toml",
                *common,
                *epochs,
                "--output",
                str(out / "one"),
            ]
            seconds, rss, _ = run(cmd, env)
            transformer_rows.append(
                transformer_row("RE transformer (tradeie train re)", seconds, rss, epoch_timing(out / "one" / "re"), "")
            )
        if not args.no_ddp:
            torchrun = str(bin_dir / "torchrun")
            cmd = [torchrun, "--nproc_per_node=2", "--standalone", *ner_cmd, "--set", "num_threads=1"]
            seconds, rss, _ = run([*cmd, "--output", str(out / "ddp")], env)
            transformer_rows.append(
                transformer_row(
                    "NER transformer, torchrun --nproc_per_node=2 (gloo, 1 thread each)",
                    seconds,
                    rss,
                    epoch_timing(out / "ddp" / "ner"),
                    f"{t_one / seconds:.2f}x",
                )
            )
            loads.append(os.getloadavg()[0])
        if args.make_demo:
            make = shutil.which("make") or "make"
            seconds, rss, _ = run([make, "demo", "RUN=bench-demo"], env)
            extra.append(
                f"make demo (installed; corpus, dataset, train crf + re-rules, predict, evaluate): {seconds:.0f} s"
            )
            loads.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(out, ignore_errors=True)
        if args.make_demo:
            for folder in (ROOT / "training" / "runs" / "bench-demo", ROOT / "eval" / "bench-demo"):
                shutil.rmtree(folder, ignore_errors=True)
    print(f"machine: {machine()}")
    load = f"{min(loads):.1f}-{max(loads):.1f}"
    print(f"epochs: {args.epochs:g}, dataset: {args.dataset}, load average during the runs: {load}")
    print(table(["training command", "seconds", "peak RSS MiB", "load avg after"], system_rows))
    print()
    print(
        table(
            [
                "transformer training",
                "seconds (process)",
                "s/epoch",
                "steps s/epoch",
                "eval s/epoch",
                "checkpoint s/epoch",
                "eval share",
                "checkpoint share",
                "start-up, loading, final scoring share",
                "peak RSS MiB (largest process)",
                "speed-up over one process",
            ],
            transformer_rows,
        )
    )
    for line in extra:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
