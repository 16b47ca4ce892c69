"""Run by the SpanMarker venv's Python (span-marker 1.8.1, transformers < 5): one short epoch on the `ner` config,
then SpanMarker's own evaluation loop on the test split, offline.

Usage: python spanmarker_train.py DATASET_DIR ENCODER_DIR OUT_DIR; prints one JSON line with the results.

SpanMarker scores with ``evaluate.load("seqeval")``, which fetches a metric script from the Hub; here that
name resolves to the local copy in ``seqeval/`` beside this file (the same module, run by the ``seqeval``
package span-marker installs), so ``trainer.evaluate`` works without a network.
"""

import json
import sys
from pathlib import Path

import evaluate
from datasets import load_dataset
from span_marker import SpanMarkerModel, Trainer
from transformers import TrainingArguments

LOCAL_SEQEVAL = str(Path(__file__).resolve().with_name("seqeval"))
_hub_load = evaluate.load


def offline_load(path, *args, **kwargs):
    """``evaluate.load`` with ``seqeval`` read from the local module folder."""
    return _hub_load(LOCAL_SEQEVAL if path == "seqeval" else path, *args, **kwargs)


evaluate.load = offline_load  # span_marker.evaluation calls evaluate.load("seqeval") at scoring time


def plain(value):
    """numpy scalars and nested dicts as JSON values."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value.item() if hasattr(value, "item") else value


dataset_dir, encoder, out = sys.argv[1:4]
ner = load_dataset(dataset_dir, "ner")
labels = ner["train"].features["ner_tags"].feature.names
model = SpanMarkerModel.from_pretrained(
    encoder, labels=labels, model_max_length=128, entity_max_length=8, marker_max_length=64
)
args = TrainingArguments(
    output_dir=out + "/work",
    num_train_epochs=1,
    per_device_train_batch_size=8,
    per_device_eval_batch_size=8,
    learning_rate=5e-4,
    report_to="none",
    use_cpu=True,
    save_strategy="no",
    eval_strategy="no",
    logging_steps=1000,
    seed=1,
    dataloader_num_workers=0,
)
train = ner["train"].select(range(48))
trainer = Trainer(model=model, args=args, train_dataset=train)
result = trainer.train()

# SpanMarker's own evaluation loop (its Trainer.evaluate -> compute_f1_via_seqeval) on test sentences
test = ner["test"].select(range(16))
test_metrics = plain(trainer.evaluate(test, metric_key_prefix="test"))
gold_entities = sum(1 for tags in test["ner_tags"] for tag in tags if labels[tag].startswith("B-"))

model.save_pretrained(out + "/model")
reloaded = SpanMarkerModel.from_pretrained(out + "/model")
preds = reloaded.predict(list(test["tokens"]))
spans_ok = all(
    0 <= p["word_start_index"] < p["word_end_index"] <= len(toks)
    for toks, sentence in zip(test["tokens"], preds)
    for p in sentence
)
print(
    json.dumps(
        {
            "steps": result.global_step,
            "train_loss": result.training_loss,
            "labels": reloaded.config.id2label,
            "document_id_type": type(train[0]["document_id"]).__name__,
            "test_metrics": test_metrics,
            "test_gold_entities": gold_entities,
            "predicted_sentences": len(preds),
            "spans_ok": spans_ok,
        }
    )
)
