"""Where training time goes: each epoch's training steps, evaluation and checkpoint writing.

:class:`EpochTimer` is a ``TrainerCallback`` that charges the wall time
between Trainer hooks to a phase; :func:`timing_summary` turns the epochs of
one seed (or of every seed) into the ``timing`` entry of ``metrics.json``:
seconds per phase, per-epoch means and each phase's share of the total.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from transformers import TrainerCallback

#: The phases of an epoch: optimiser steps, evaluation on the validation examples, checkpoint writing.
PHASES: tuple[str, ...] = ("steps", "eval", "save")


class EpochTimer(TrainerCallback):
    """Wall seconds of each epoch's training steps, evaluation and checkpoint saving (in ``epochs``).

    Each hook charges the time since the previous one to its phase: up to
    ``on_step_end`` / ``on_epoch_end`` to the steps, up to ``on_evaluate`` to
    evaluation, up to ``on_save`` to checkpoint writing.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.epochs: list[dict[str, float]] = []
        self._mark = 0.0

    def _charge(self, phase: str) -> None:
        now = self.clock()
        if self.epochs:
            self.epochs[-1][phase] += now - self._mark
        self._mark = now

    def on_epoch_begin(self, args, state, control, **kwargs) -> None:
        self.epochs.append(dict.fromkeys(PHASES, 0.0))
        self._mark = self.clock()

    def on_step_end(self, args, state, control, **kwargs) -> None:
        self._charge("steps")

    def on_epoch_end(self, args, state, control, **kwargs) -> None:
        self._charge("steps")

    def on_evaluate(self, args, state, control, **kwargs) -> None:
        self._charge("eval")

    def on_save(self, args, state, control, **kwargs) -> None:
        self._charge("save")


def _share(part: float, total: float) -> float:
    """``part / total`` rounded down to 4 decimals (so that shares never add up to more than 1)."""
    return math.floor(part / total * 1e4) / 1e4 if total > 0 else 0.0


def timing_summary(epochs: Sequence[dict[str, float]], total_seconds: float, score_seconds: float) -> dict[str, Any]:
    """Seconds per phase over ``epochs``, per-epoch means, and shares of ``total_seconds``.

    ``score_seconds`` is the time the one scorer took on the validation
    documents after training (part of the total, outside the epochs). The
    shares leave out the rest: start-up, model loading, loading the best checkpoint.
    """
    sums = {phase: sum(e[phase] for e in epochs) for phase in PHASES}
    n = len(epochs)
    return {
        "total_seconds": round(total_seconds, 4),
        "epochs": n,
        **{f"{phase}_seconds": round(s, 4) for phase, s in sums.items()},
        "score_seconds": round(score_seconds, 4),
        "eval_seconds_per_epoch": round(sums["eval"] / n, 4) if n else 0.0,
        "save_seconds_per_epoch": round(sums["save"] / n, 4) if n else 0.0,
        "shares": {
            **{phase: _share(s, total_seconds) for phase, s in sums.items()},
            "score": _share(score_seconds, total_seconds),
        },
    }
