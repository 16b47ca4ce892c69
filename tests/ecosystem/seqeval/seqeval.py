"""A local copy of the ``seqeval`` evaluation module (``evaluate.load("seqeval")`` fetches it from the Hub).

SpanMarker's evaluation loop calls ``evaluate.load("seqeval")``; ``spanmarker_train.py`` points that at
this folder so that ``trainer.evaluate`` runs offline. Same features and outputs as the Hub module
(per entity type ``precision``/``recall``/``f1``/``number``, and ``overall_*``), computed by the
``seqeval`` package that span-marker installs.
"""

import datasets
import evaluate
from seqeval.metrics import accuracy_score, classification_report


class Seqeval(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="seqeval: entity-level precision, recall and F1 of IOB sequences (local copy)",
            citation="",
            inputs_description="predictions and references: lists of IOB tag sequences",
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string", id="label"), id="sequence"),
                    "references": datasets.Sequence(datasets.Value("string", id="label"), id="sequence"),
                }
            ),
        )

    def _compute(
        self, predictions, references, suffix=False, scheme=None, mode=None, sample_weight=None, zero_division="warn"
    ):
        if scheme is not None:
            import importlib

            scheme = getattr(importlib.import_module("seqeval.scheme"), scheme)
        report = classification_report(
            y_true=references,
            y_pred=predictions,
            suffix=suffix,
            output_dict=True,
            scheme=scheme,
            mode=mode,
            sample_weight=sample_weight,
            zero_division=zero_division,
        )
        report.pop("macro avg")
        report.pop("weighted avg")
        overall = report.pop("micro avg")
        scores = {
            name: {"precision": s["precision"], "recall": s["recall"], "f1": s["f1-score"], "number": s["support"]}
            for name, s in report.items()
        }
        scores["overall_precision"] = overall["precision"]
        scores["overall_recall"] = overall["recall"]
        scores["overall_f1"] = overall["f1-score"]
        scores["overall_accuracy"] = accuracy_score(y_true=references, y_pred=predictions)
        return scores
