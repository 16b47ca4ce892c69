"""benchmarks/run.sh starts (its --dry-run lists the steps), takes its sizes as options and rejects unknown
options; each benchmark script starts. Fast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def test_full_dry_run_uses_the_documented_default_sizes():
    proc = run("--dry-run", "--model", "training/runs/no-such-run")
    assert proc.returncode == 0, proc.stderr
    assert "--docs 200 --systems rules,crf,crf-rules --int8" in proc.stdout
    assert "bench_build.py --sizes 1000,10000 --num-proc 2" in proc.stdout
    assert "bench_train.py --epochs 1 --make-demo" in proc.stdout


def test_sizes_are_configurable():
    proc = run("--dry-run", "--model", "training/runs/no-such-run", "--docs", "1000", "--sizes", "1000,10000,100000")
    assert proc.returncode == 0, proc.stderr
    assert "--docs 1000 " in proc.stdout
    assert "--sizes 1000,10000,100000 " in proc.stdout


FIX = "(fix: use --quick, --dry-run, --model DIR, --docs N, --sizes N,N or --epochs E)"


def test_unknown_option_is_one_line_with_the_fix():
    proc = run("--fast")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"benchmarks/run.sh: unknown option --fast {FIX}"


def test_option_without_value_is_one_line_with_the_fix():
    proc = run("--docs")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"benchmarks/run.sh: --docs needs a value {FIX}"


@pytest.mark.parametrize("script", ["bench_predict.py", "bench_build.py", "bench_train.py"])
def test_each_benchmark_script_starts(script):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:")
