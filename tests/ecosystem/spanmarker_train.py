"""Run by the SpanMarker venv's Python (span-marker 1.8.1, transformers < 5): one short epoch on the `ner` config.

Usage: python spanmarker_train.py DATASET_DIR ENCODER_DIR OUT_DIR; prints one JSON line with the results.
"""

import json
import sys

from datasets import load_dataset
from span_marker import SpanMarkerModel, Trainer
from transformers import TrainingArguments

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
result = trainer.train()  # (trainer.evaluate() would fetch the seqeval script from the Hub: offline here)
model.save_pretrained(out + "/model")
reloaded = SpanMarkerModel.from_pretrained(out + "/model")
validation = ner["validation"].select(range(8))
preds = reloaded.predict(list(validation["tokens"]))
spans_ok = all(
    0 <= p["word_start_index"] < p["word_end_index"] <= len(toks)
    for toks, sentence in zip(validation["tokens"], preds)
    for p in sentence
)
print(
    json.dumps(
        {
            "steps": result.global_step,
            "train_loss": result.training_loss,
            "labels": reloaded.config.id2label,
            "document_id_type": type(train[0]["document_id"]).__name__,
            "predicted_sentences": len(preds),
            "spans_ok": spans_ok,
        }
    )
)
