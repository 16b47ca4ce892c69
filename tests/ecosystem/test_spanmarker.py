"""SpanMarker (span-marker 1.8.1 in its own venv, transformers < 5) trains on the published `ner` config and
scores the test split with its own evaluation loop, offline (seqeval from a local module, not the Hub)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SPANMARKER_REQUIREMENTS = ("span-marker==1.8.1", "transformers<5", "torch==2.13.0")


def ensure_spanmarker_venv(venv: Path) -> Path:
    """``venv`` with span-marker 1.8.1, created once and reused (like ``.venv-labelstudio``)."""
    python = venv / "bin" / "python"
    check = [
        str(python),
        "-c",
        "import span_marker, transformers; print(span_marker.__version__, transformers.__version__)",
    ]
    if python.exists():
        found = subprocess.run(check, capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.split()[0] == "1.8.1":
            return python
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
    with open(venv / "install.log", "w") as log:
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--disable-pip-version-check", *SPANMARKER_REQUIREMENTS],
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return python


@pytest.fixture(scope="session")
def spanmarker_python() -> Path:
    return ensure_spanmarker_venv(Path(os.environ.get("TRADEIE_SPANMARKER_VENV", REPO / ".venv-spanmarker")))


def test_spanmarker_trains_one_short_epoch_on_the_ner_config(spanmarker_python, gold_hub, tiny_model, tmp_path):
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_DATASETS_CACHE": str(tmp_path / "cache"),
        "HF_EVALUATE_OFFLINE": "1",
        "HF_MODULES_CACHE": str(tmp_path / "modules"),
        "CUDA_VISIBLE_DEVICES": "",
        "PYTHONPATH": "",
    }
    proc = subprocess.run(
        [
            str(spanmarker_python),
            str(Path(__file__).with_name("spanmarker_train.py")),
            str(gold_hub),
            str(tiny_model),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # one epoch over 48 sentences, batch 8: SpanMarker splits a sentence with more candidate spans than
    # marker_max_length (64) into several samples, which gives 18 batches here
    assert result["steps"] == 18
    assert result["document_id_type"] == "int"
    assert sorted(result["labels"].values()) == ["ACTOR", "AGREEMENT", "O", "TARIFF"]
    # SpanMarker's Trainer.evaluate on 16 test sentences: seqeval per label and overall, every gold entity counted
    metrics = result["test_metrics"]
    assert {"test_overall_precision", "test_overall_recall", "test_overall_f1", "test_overall_accuracy"} <= set(metrics)
    assert all(0.0 <= metrics[f"test_overall_{k}"] <= 1.0 for k in ("precision", "recall", "f1", "accuracy"))
    per_label = {k.removeprefix("test_"): v for k, v in metrics.items() if isinstance(v, dict)}
    assert set(per_label) <= {"ACTOR", "AGREEMENT", "TARIFF"} and "ACTOR" in per_label
    assert 0 < sum(v["number"] for v in per_label.values()) <= result["test_gold_entities"]
    assert (result["predicted_sentences"], result["spans_ok"]) == (16, True)  # the saved model reloads and predicts
