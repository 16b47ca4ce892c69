"""benchmarks/run.sh starts (its --dry-run lists the steps) and rejects unknown options; fast."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_SH = ROOT / "benchmarks" / "run.sh"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(RUN_SH), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_quick_dry_run_lists_every_benchmark_at_smoke_sizes():
    proc = run("--quick", "--dry-run", "--model", "training/runs/no-such-run")
    assert proc.returncode == 0, proc.stderr
    steps = proc.stdout.splitlines()
    assert [s.split("benchmarks/")[1].split()[0] for s in steps if "benchmarks/bench_" in s] == [
        "bench_predict.py",
        "bench_build.py",
        "bench_train.py",
    ]
    assert any("train ner" in s and "epochs=0.1" in s and "training/runs/bench" in s for s in steps)
    assert any("bench_build.py --sizes 50,100 --num-proc 2" in s for s in steps)
    assert any("bench_train.py --epochs 0.1 --no-ddp" in s for s in steps)


def test_full_dry_run_uses_the_full_sizes():
    proc = run("--dry-run", "--model", "training/runs/no-such-run")
    assert proc.returncode == 0, proc.stderr
    assert "--docs 1000 --systems rules,crf,crf-rules --int8" in proc.stdout
    assert "--sizes 1000,10000" in proc.stdout


def test_unknown_option_is_one_line_with_the_fix():
    proc = run("--fast")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip() == "benchmarks/run.sh: unknown option --fast (fix: use --quick, --dry-run or --model DIR)"
    )
