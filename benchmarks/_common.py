"""Shared helpers of the benchmark scripts: machine details, timing, peak memory, tables."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable, Sequence
from importlib import metadata


def set_threads(n: int) -> None:
    """Limit torch (and BLAS) to ``n`` threads, as on a 2-core machine."""
    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(n)


def machine() -> str:
    """One line of machine details: cores, torch threads, versions."""
    versions = []
    for name in ("torch", "transformers", "datasets", "spacy", "datasketch"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    try:
        import torch

        threads = f"torch threads {torch.get_num_threads()}"
    except ImportError:  # pragma: no cover
        threads = "torch threads ?"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()} {os.cpu_count()} cores (affinity {len(os.sched_getaffinity(0))}), {threads}, "
        f"load {load:.1f}, Python {platform.python_version()}, " + ", ".join(versions)
    )


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], object], repeats: int = 1) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (numbers formatted compactly)."""

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 10 else f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.1f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


class AnonPeak:
    """Peak anonymous resident memory (MiB) of this process, sampled from /proc every ``interval`` s.

    ``ru_maxrss`` also counts file pages mapped into the process (memory-mapped Arrow
    files read back: page cache the kernel can drop), so a build that reads its
    outputs shows them in peak RSS; ``RssAnon`` is the process's own heap and stacks.
    """

    def __init__(self, interval: float = 0.05) -> None:
        import threading

        self.interval = interval
        self.peak = self.sample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def sample() -> float:
        try:
            with open("/proc/self/status") as handle:
                for line in handle:
                    if line.startswith("RssAnon:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.sample())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.sample())
        return self.peak
