"""One scorer: training-time evaluation, `tradeie evaluate` and the model card give the same numbers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

STATS = ("precision", "recall", "f1")


@pytest.fixture(scope="module")
def one_set(golden_gold, golden_pred):
    """The golden predictions, plus relations predicted from gold entities (every document's first one lost)."""
    pge = [d.with_annotations(d.entities, d.relations[1:]) for d in golden_gold]
    return golden_gold, golden_pred, pge


def _card_values(readme) -> dict[tuple[str, str], float]:
    """(split, metric_type, metric_config) -> value of a model card's model-index."""
    from huggingface_hub import ModelCard

    return {
        (r.dataset_split, r.metric_type, r.metric_config): r.metric_value
        for r in ModelCard.load(readme).data.eval_results
    }


def test_training_evaluate_and_model_card_agree(one_set, tmp_path):
    from tradeie.evaluation.evaluate import evaluate_documents
    from tradeie.evaluation.report import fill_model_card
    from tradeie.training import ner as ner_training
    from tradeie.training import relation as re_training
    from tradeie.training.config import NERConfig, REConfig
    from tradeie.training.modelcard import write_model_card

    gold, pred, pge = one_set
    ner_scores = ner_training.score_entities(gold, pred)  # metrics.json "test" of fit_ner, seed choice
    re_scores = re_training.score_relations(gold, pge, pred)  # fit_re's "test" and "test_end_to_end"
    evaluated = evaluate_documents(gold, pred, pred_gold_entities=pge)  # `tradeie evaluate`
    head = evaluated["headline"]

    for stat in STATS:
        assert ner_scores[stat] == head[f"ner_{stat}"]["value"]
    assert ner_scores["ci"]["f1"] == [head["ner_f1"]["ci_low"], head["ner_f1"]["ci_high"]]
    strict = evaluated["ner"]["seqeval"]["strict"]["per_label"]
    assert {k: v["f1"] for k, v in ner_scores["per_label"].items()} == {k: v["f1"] for k, v in strict.items()}
    assert re_scores["gold_entities"]["f1"] == head["re_gold_entities_f1"]["value"]
    assert re_scores["end_to_end"]["f1"] == head["re_f1"]["value"]
    # expected values, independent of the scorer: the first relation of each document is the only loss
    n_gold, n_lost = sum(len(d.relations) for d in gold), sum(1 for d in gold if d.relations)
    assert (n_gold, n_lost) == (30, 3)
    assert re_scores["gold_entities"]["precision"] == 1.0
    assert re_scores["gold_entities"]["recall"] == pytest.approx(27 / 30)

    # the model card written at training time, then rewritten by `tradeie evaluate --update-card`
    ner_dir, re_dir = tmp_path / "ner", tmp_path / "re"
    ner_dir.mkdir()
    re_dir.mkdir()
    write_model_card(ner_dir, "ner", NERConfig(run_name="one"), {"test": ner_scores}, "tiny-bert")
    write_model_card(
        re_dir,
        "re",
        REConfig(run_name="one"),
        {"test": re_scores["gold_entities"], "test_end_to_end": re_scores["end_to_end"]},
        "tiny-bert",
    )
    trained = {**_card_values(ner_dir / "README.md"), **_card_values(re_dir / "README.md")}
    fill_model_card(ner_dir / "README.md", evaluated, split="test", tasks=("ner",))
    fill_model_card(re_dir / "README.md", evaluated, split="test", tasks=("re",))
    updated = {**_card_values(ner_dir / "README.md"), **_card_values(re_dir / "README.md")}

    for stat in STATS:
        value = round(head[f"ner_{stat}"]["value"], 4)
        assert trained[("test", stat, "seqeval:test")] == value == updated[("test", stat, "strict")]
    re_pairs = {
        ("relation_f1:test", "gold_entities"): "re_gold_entities_f1",
        ("relation_f1:test_end_to_end", "end_to_end"): "re_f1",
    }
    for (trained_config, updated_config), name in re_pairs.items():
        value = round(head[name]["value"], 4)
        assert trained[("test", "f1", trained_config)] == value == updated[("test", "f1", updated_config)]


def test_epoch_hook_scores_with_the_one_scorer(one_set):
    """The Trainer's per-epoch NER F1 on sentence-sized windows equals the evaluated figure."""
    from tradeie.evaluation.scores import compute_metrics, token_views
    from tradeie.schema import BIO_TAGS
    from tradeie.training.ner import LABEL2ID, _window_metrics

    gold, pred, _ = one_set
    views, _ = token_views(gold, pred)
    rows = [(g, p) for v in views for g, p in zip(v.gold, v.pred) if g]
    width = max(len(g) for g, _ in rows) + 2
    labels = np.full((len(rows), width), -100)
    preds = np.zeros((len(rows), width), dtype=int)
    for r, (g, p) in enumerate(rows):
        labels[r, 1 : len(g) + 1] = [LABEL2ID[t] for t in g]
        preds[r, 1 : len(p) + 1] = [LABEL2ID[t] for t in p]
    hook = _window_metrics(BIO_TAGS)(SimpleNamespace(predictions=preds, label_ids=labels))
    micro = compute_metrics(gold, pred, n_resamples=0)["ner"]["seqeval"]["strict"]["micro"]
    assert (hook["precision"], hook["recall"], hook["f1"]) == (micro["precision"], micro["recall"], micro["f1"])
    assert hook["selection"] == pytest.approx(micro["f1"] + 1e-3 * hook["token_f1"])


def test_relation_hook_refuses_mismatched_type_masks():
    from tradeie.training.relation import LABELS, _pair_metrics

    masks = [np.ones(len(LABELS), bool)]
    logits = np.zeros((2, len(LABELS)))
    with pytest.raises(RuntimeError, match="2 predictions for 1 candidate pairs"):
        _pair_metrics(masks)(SimpleNamespace(predictions=logits, label_ids=np.zeros(2, dtype=int)))
