"""Fine-tune the real offline MiniLM-L6 for a few steps; the saved models reload and predict."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_minilm_few_steps_reload_and_predict(tmp_path, toy_docs):
    from safetensors.torch import load_file

    from tradeie import Pipeline
    from tradeie.training.config import NERConfig, REConfig, default_base_model
    from tradeie.training.ner import fit_ner
    from tradeie.training.relation import fit_re

    common = dict(
        max_steps=4,
        batch_size=4,
        max_length=64,
        stride=16,
        seeds=[0],
        progress_bars=False,
        device="cpu",
        logging_steps=1000,
        learning_rate=1e-4,
    )
    run = tmp_path / "minilm"
    ner = fit_ner(toy_docs[:4], toy_docs[4:5], NERConfig(run_name="minilm", **common), run / "ner")
    fit_re(toy_docs[:4], toy_docs[4:5], REConfig(run_name="minilm", **common), run / "re", ner_dir=run / "ner")
    weights = load_file(ner / "model.safetensors")
    assert any(k.startswith("classifier") for k in weights) and len(weights) > 50
    training = json.loads((ner / "training_config.json").read_text())
    assert training["base_model"] == default_base_model()
    pipe = Pipeline.load(run)
    assert pipe.ner.model.config.hidden_size == 384
    long_text = " ".join(toy_docs[5].text for _ in range(30))  # several windows
    doc = pipe(long_text)
    for ent in doc.entities:
        assert long_text[ent.start : ent.end] == ent.text
    docs = pipe.predict_documents(toy_docs[5:7])
    assert [d.id for d in docs] == [d.id for d in toy_docs[5:7]]
    assert json.loads((run / "re" / "metrics.json").read_text())["seeds"][0]["steps"] == 4
