"""Where training time goes: per-epoch training steps, evaluation and checkpoint writing in metrics.json."""

from __future__ import annotations

import json

import pytest

from tradeie.training.timing import EpochTimer, timing_summary


class FakeClock:
    """A clock the test advances by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_epoch_timer_charges_each_phase_the_time_since_the_previous_hook():
    clock = FakeClock()
    timer = EpochTimer(clock)
    hooks = [  # (seconds later, hook)
        (0.0, "on_epoch_begin"),
        (2.0, "on_step_end"),
        (3.0, "on_step_end"),
        (0.5, "on_epoch_end"),
        (1.25, "on_evaluate"),
        (0.75, "on_save"),
        (0.0, "on_epoch_begin"),
        (4.0, "on_step_end"),
        (1.0, "on_save"),  # a step-level checkpoint (max_steps reached)
        (0.0, "on_epoch_end"),
        (2.0, "on_evaluate"),
    ]
    for seconds, hook in hooks:
        clock.now += seconds
        getattr(timer, hook)(None, None, None)
    assert timer.epochs == [
        {"steps": 5.5, "eval": 1.25, "save": 0.75},
        {"steps": 4.0, "eval": 2.0, "save": 1.0},
    ]


def test_timing_summary_seconds_means_and_shares():
    epochs = [{"steps": 5.5, "eval": 1.25, "save": 0.75}, {"steps": 4.0, "eval": 2.0, "save": 1.0}]
    assert timing_summary(epochs, 20.0, 3.0) == {
        "total_seconds": 20.0,
        "epochs": 2,
        "steps_seconds": 9.5,
        "eval_seconds": 3.25,
        "save_seconds": 1.75,
        "score_seconds": 3.0,
        "eval_seconds_per_epoch": 1.625,
        "save_seconds_per_epoch": 0.875,
        "shares": {"steps": 0.475, "eval": 0.1625, "save": 0.0875, "score": 0.15},
    }
    # shares are rounded down: never more than the whole
    assert timing_summary([{"steps": 1.0, "eval": 1.0, "save": 1.0}], 3.0, 0.0)["shares"] == {
        "steps": 0.3333,
        "eval": 0.3333,
        "save": 0.3333,
        "score": 0.0,
    }
    assert timing_summary([], 0.0, 0.0)["shares"] == {"steps": 0.0, "eval": 0.0, "save": 0.0, "score": 0.0}


PHASES = ("steps", "eval", "save", "score")


def _check_timing(timing: dict, epochs: int) -> None:
    assert set(timing) >= {
        "total_seconds",
        "epochs",
        "steps_seconds",
        "eval_seconds",
        "save_seconds",
        "score_seconds",
        "eval_seconds_per_epoch",
        "save_seconds_per_epoch",
        "shares",
    }
    assert timing["epochs"] == epochs
    assert set(timing["shares"]) == set(PHASES)
    assert all(0 < timing["shares"][p] for p in ("steps", "eval", "save"))
    assert sum(timing["shares"].values()) <= 1
    assert sum(timing[f"{p}_seconds"] for p in PHASES) <= timing["total_seconds"] + 1e-3


@pytest.mark.parametrize("seeds", [[1], [1, 2]])
def test_metrics_json_records_where_the_time_went(tmp_path, ner_config, toy_docs, seeds):
    import dataclasses

    from tradeie.training.ner import fit_ner

    config = dataclasses.replace(ner_config, seeds=seeds)
    out = fit_ner(toy_docs[:3], toy_docs[3:4], config, tmp_path / "ner")
    metrics = json.loads((out / "metrics.json").read_text())
    for run in metrics["seeds"]:
        timing = run["timing"]
        _check_timing(timing, 2)
        assert len(timing["per_epoch"]) == 2
        assert all(set(e) == {"steps_seconds", "eval_seconds", "save_seconds"} for e in timing["per_epoch"])
        assert timing["total_seconds"] >= run["train_seconds"] - 0.01
    _check_timing(metrics["timing"], 2 * len(seeds))
    assert metrics["timing"]["eval_seconds"] == pytest.approx(
        sum(r["timing"]["eval_seconds"] for r in metrics["seeds"]), abs=1e-3
    )
