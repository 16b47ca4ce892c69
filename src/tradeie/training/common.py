"""The training skeleton shared by the NER and relation trainers.

:func:`fit_model` runs every step the two have in common on a
:class:`TaskParts` (what differs: examples, model, collator, metrics):
class-weighted loss, class-balanced sampling, TrainingArguments from a
config, the Trainer, the multi-seed loop with checkpoints, resume and
best/mean/sd, ``metrics.json`` with timing, distributed-safe writing.
:func:`batched_probs` is the one batched inference loop of both predictors.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradeie.document import Document
from tradeie.errors import TradeieError
from tradeie.training.config import TrainConfig

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


#: Set by :func:`resuming` (``tradeie train --resume``): continue from the checkpoints of an interrupted run.
_RESUME: ContextVar[bool] = ContextVar("tradeie_resume", default=False)


@contextmanager
def resuming(enabled: bool = True):
    """Within this block, :func:`run_seeds` resumes each seed from its last checkpoint."""
    token = _RESUME.set(enabled)
    try:
        yield
    finally:
        _RESUME.reset(token)


def checkpoint_dir(output_dir: str | Path) -> Path:
    """Where the trainers keep the checkpoints of ``output_dir`` while training (``.NAME.checkpoints``)."""
    output_dir = Path(output_dir)
    return output_dir.parent / f".{output_dir.name}.checkpoints"


def last_checkpoint(seed_dir: Path) -> str | None:
    """The newest ``checkpoint-N`` folder under ``seed_dir`` that holds a trainer state, or None."""
    found = (
        [
            p
            for p in seed_dir.glob("checkpoint-*")
            if (p / "trainer_state.json").is_file() and p.name.split("-")[-1].isdigit()
        ]
        if seed_dir.is_dir()
        else []
    )
    return str(max(found, key=lambda p: int(p.name.split("-")[-1]))) if found else None


class ListDataset:
    """A list of feature dicts as a map-style dataset (what Trainer needs)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.items[i]


@contextmanager
def quiet_transformers():
    """Silence transformers' load reports and weight-loading progress bars (restored afterwards)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


@contextmanager
def transformers_bars(enabled: bool):
    """transformers' own progress bars (e.g. "Writing model shards" at each checkpoint) on only when
    ``enabled``; their previous state is restored afterwards."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    if enabled:
        hf_logging.enable_progress_bar()
    else:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()
        else:
            hf_logging.disable_progress_bar()


def setup_torch(config: TrainConfig) -> None:
    import torch

    if config.num_threads:
        torch.set_num_threads(config.num_threads)


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def inverse_frequency_weights(counts: Counter, n_classes: int) -> list[float]:
    """Square-root inverse-frequency weights per class id, mean 1 over the counted items.

    Classes never seen get the largest weight of the seen ones.
    """
    total = sum(counts.values())
    if not total:
        return [1.0] * n_classes
    raw = {c: math.sqrt(total / n) for c, n in counts.items() if n}
    scale = total / sum(raw[c] * n for c, n in counts.items() if n)
    top = max(raw.values())
    return [scale * raw.get(c, top) for c in range(n_classes)]


def balanced_sample_weights(groups: Sequence[str]) -> list[float]:
    """Per-example sampling weights ``count(group) ** -0.5`` (square-root class balancing)."""
    counts = Counter(groups)
    return [counts[g] ** -0.5 for g in groups]


def weighted_loss(class_weights: Sequence[float]) -> Callable:
    """A ``compute_loss_func`` for Trainer: cross-entropy with per-class weights, -100 ignored."""
    import torch

    weights = torch.tensor(list(class_weights), dtype=torch.float32)

    def loss_fn(outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        logits = logits.reshape(-1, logits.shape[-1]).float()
        labels = labels.reshape(-1).to(logits.device)
        losses = torch.nn.functional.cross_entropy(
            logits, labels, weight=weights.to(logits.device), ignore_index=-100, reduction="none"
        )
        if num_items_in_batch is None:
            num_items_in_batch = (labels != -100).sum().clamp(min=1)
        return losses.sum() / num_items_in_batch

    return loss_fn


def make_trainer_class():
    """Trainer subclass with an optional weighted (class-balanced) training sampler."""
    import torch
    from transformers import Trainer

    class TradeieTrainer(Trainer):
        def __init__(self, *args, sample_weights: Sequence[float] | None = None, **kwargs):
            self.sample_weights = sample_weights
            super().__init__(*args, **kwargs)

        def train(self, resume_from_checkpoint=None, *args, **kwargs):
            """Resume from ``args.resume_from_checkpoint`` (set by :func:`run_seeds` under ``--resume``)."""
            if resume_from_checkpoint is None:
                resume_from_checkpoint = self.args.resume_from_checkpoint
            return super().train(resume_from_checkpoint, *args, **kwargs)

        def _get_train_sampler(self, train_dataset=None):
            if self.sample_weights is None:
                return super()._get_train_sampler(train_dataset)
            generator = torch.Generator()
            generator.manual_seed(self.args.seed)
            return torch.utils.data.WeightedRandomSampler(
                list(self.sample_weights), num_samples=len(self.sample_weights), replacement=True, generator=generator
            )

    return TradeieTrainer


def has_accelerator() -> bool:
    """A CUDA or Apple MPS device is available."""
    import torch

    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps is not None and mps.is_available())


def training_arguments(
    config: TrainConfig, work_dir: Path, seed: int, has_eval: bool, resume_from_checkpoint: str | None = None
):
    """TrainingArguments for one seed: evaluate + keep the best each epoch when there is an eval set.

    A full checkpoint (model, optimiser, scheduler, RNG states) is saved each
    epoch, so that an interrupted run can continue with ``--resume``.
    """
    import torch
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(work_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        eval_strategy="epoch" if has_eval else "no",
        save_strategy="epoch",
        load_best_model_at_end=has_eval,
        metric_for_best_model="selection" if has_eval else None,
        greater_is_better=True if has_eval else None,
        save_total_limit=1,  # with load_best_model_at_end, the best and the last are kept
        save_only_model=False,
        resume_from_checkpoint=resume_from_checkpoint,
        logging_strategy="steps",
        logging_steps=config.logging_steps,
        seed=seed,
        data_seed=seed,
        optim="adamw_torch",
        use_cpu=config.device == "cpu" or not has_accelerator(),  # CPU DDP (gloo) needs use_cpu=True
        ddp_backend=config.ddp_backend or None,
        disable_tqdm=True,  # bars come from TrainingProgress (tradeie.progress: a terminal only, never in CI)
        report_to="none",
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available() and config.device != "cpu",
        remove_unused_columns=False,
    )


#: ``selection`` = F1 + 1e-3 x a tie-breaking score in [0, 1]; below this the F1 is still 0.
_ZERO_F1 = 1.001e-3


def training_progress(enabled: bool = True, desc: str = "train"):
    """A ``TrainerCallback``: a bar over the training steps on a terminal, the validation F1 of each epoch
    in it; without a bar (a pipe, a CI log, ``progress_bars = false``) each epoch's F1 is logged (INFO).

    Bars follow :func:`tradeie.progress.show_progress` and go to standard error; nothing is printed
    to standard output (the Trainer's own tqdm and its printed log dicts are switched off).
    """
    from transformers import TrainerCallback

    from tradeie.progress import Bar, progress_bar

    class TrainingProgress(TrainerCallback):
        def __init__(self) -> None:
            self.bar: Bar | None = None
            self.done = 0

        def on_train_begin(self, args, state, control, **kwargs):
            if enabled and state.is_world_process_zero:
                self.done = state.global_step  # > 0 when resumed from a checkpoint
                self.bar = progress_bar(desc, total=state.max_steps or None, unit="step", initial=self.done)

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(state.global_step - self.done)
                self.done = state.global_step

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            if not state.is_world_process_zero or not metrics or "eval_f1" not in metrics:
                return
            done = state.epoch or 0
            epoch = f"{done:.0f}/{args.num_train_epochs:g}" if args.max_steps <= 0 else f"{done:.2f}"
            message = f"epoch {epoch}: validation F1 {metrics['eval_f1']:.4f}"
            if self.bar is not None and self.bar.active:
                self.bar.set_postfix(message)
            else:
                log.info("%s: %s", desc, message)

        def on_train_end(self, args, state, control, **kwargs):
            self.close()

        def close(self) -> None:
            """Remove the bar (also when training stopped with an exception)."""
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return TrainingProgress()


def early_stopping(config: TrainConfig, has_eval: bool) -> list:
    """Stop after ``early_stopping_patience`` evaluations without a better ``selection`` score.

    Patience only starts counting once the model has a non-zero F1: on a few
    documents the first epochs often predict nothing at all, and stopping
    there would keep a model that never learned a label.
    """
    from transformers import EarlyStoppingCallback

    class PatientEarlyStopping(EarlyStoppingCallback):
        def check_metric_value(self, args, state, control, metric_value):
            if state.best_metric is not None and max(state.best_metric, metric_value) < _ZERO_F1:
                self.early_stopping_patience_counter = 0
                return
            super().check_metric_value(args, state, control, metric_value)

    if has_eval and config.early_stopping_patience:
        return [PatientEarlyStopping(early_stopping_patience=config.early_stopping_patience)]
    return []


@dataclass
class SeedRun:
    seed: int
    eval: dict | None
    epochs: float
    steps: int
    train_seconds: float
    log_history: list = field(default_factory=list)
    #: Per epoch: wall seconds of the training steps, evaluation and checkpoint saving (:mod:`.timing`).
    epoch_seconds: list[dict[str, float]] = field(default_factory=list)
    #: Wall seconds of scoring the validation documents with the one scorer after training.
    score_seconds: float = 0.0

    def timing(self) -> dict[str, Any]:
        from tradeie.training.timing import timing_summary

        summary = timing_summary(self.epoch_seconds, self.train_seconds + self.score_seconds, self.score_seconds)
        per_epoch = [{f"{phase}_seconds": round(s, 4) for phase, s in e.items()} for e in self.epoch_seconds]
        return {**summary, "per_epoch": per_epoch}

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "eval": self.eval,
            "epochs": self.epochs,
            "steps": self.steps,
            "train_seconds": round(self.train_seconds, 2),
            "timing": self.timing(),
        }


def _epoch_seconds(trainer) -> list[dict[str, float]]:
    """The epochs timed by the trainer's :class:`~tradeie.training.timing.EpochTimer` ([] without one)."""
    from tradeie.training.timing import EpochTimer

    timers = [cb for cb in trainer.callback_handler.callbacks if isinstance(cb, EpochTimer)]
    return timers[0].epochs if timers else []


def run_seeds(
    config: TrainConfig,
    work_dir: Path,
    has_eval: bool,
    train_one: Callable[[int, Any], Any],
    score: Callable[[Any], dict | None],
) -> tuple[Any, list[SeedRun], int]:
    """Train one model per seed, score each, keep the best (by eval F1; the first seed without eval).

    ``train_one(seed, args)`` returns a finished Trainer; ``score(model)``
    returns eval metrics with an ``f1`` key, or None without eval documents.
    Returns (best model, per-seed runs, index of the best run). Checkpoints
    under ``work_dir`` are removed when every seed has finished (the best model
    stays in memory); an interrupted run keeps them, and under :func:`resuming`
    each seed continues from its last checkpoint.
    """
    runs: list[SeedRun] = []
    best_index, best_model = 0, None
    seeds = config.seeds if has_eval else config.seeds[:1]
    if len(config.seeds) > 1 and not has_eval:
        log.warning("several seeds but no validation documents: training only seed %d", seeds[0])
    resume = _RESUME.get()
    if resume and not any(last_checkpoint(work_dir / f"seed-{seed}") for seed in seeds):
        raise TradeieError(
            f"{work_dir}: no checkpoint to resume from (the run finished, or never saved one)",
            hint="train again without --resume",
        )
    if not resume:
        cleanup(work_dir)  # checkpoints of an earlier interrupted run
    barrier()
    try:
        for index, seed in enumerate(seeds):
            checkpoint = last_checkpoint(work_dir / f"seed-{seed}") if resume else None
            if checkpoint and is_main_process():
                log.info("seed %d: resuming from %s", seed, checkpoint)
            args = training_arguments(config, work_dir / f"seed-{seed}", seed, has_eval, checkpoint)
            started = time.perf_counter()
            trainer = train_one(seed, args)
            elapsed = time.perf_counter() - started
            model = trainer.model
            model.eval()
            metrics = score(model)
            runs.append(
                SeedRun(
                    seed,
                    metrics,
                    round(float(trainer.state.epoch or 0), 3),
                    trainer.state.global_step,
                    elapsed,
                    list(trainer.state.log_history),
                    _epoch_seconds(trainer),
                    time.perf_counter() - started - elapsed,
                )
            )
            if is_main_process():
                log.info(
                    "seed %d: %.1f s, %s",
                    seed,
                    elapsed,
                    "no eval" if metrics is None else f"eval F1 {metrics['f1']:.4f}",
                )
            if best_model is None or (metrics is not None and metrics["f1"] > runs[best_index].eval["f1"]):
                best_index, best_model = index, model
            del trainer, model
        barrier()  # every rank is done with the checkpoints
    except BaseException:
        if is_main_process() and any(work_dir.glob("seed-*/checkpoint-*")):
            log.warning(
                "training stopped; its checkpoints are kept in %s: run the same command with --resume to continue",
                work_dir,
            )
        raise
    cleanup(work_dir)
    return best_model, runs, best_index


def seed_summary(runs: list[SeedRun], best_index: int) -> dict[str, Any]:
    """best / mean / sd of the eval F1 over seeds, every seed's run, and where the time went over all seeds."""
    from tradeie.training.timing import timing_summary

    f1s = [r.eval["f1"] for r in runs if r.eval is not None]
    out: dict[str, Any] = {
        "seeds": [r.summary() for r in runs],
        "best_seed": runs[best_index].seed,
        "train_seconds": round(sum(r.train_seconds for r in runs), 2),
        "timing": timing_summary(
            [e for r in runs for e in r.epoch_seconds],
            sum(r.train_seconds + r.score_seconds for r in runs),
            sum(r.score_seconds for r in runs),
        ),
    }
    if f1s:
        out["eval_f1_best"] = max(f1s)
        out["eval_f1_mean"] = statistics.fmean(f1s)
        out["eval_f1_sd"] = statistics.stdev(f1s) if len(f1s) > 1 else 0.0
    return out


def check_length(config: TrainConfig, base_model: str) -> None:
    """max_length must fit the encoder's position embeddings."""
    from transformers import AutoConfig

    try:
        model_config = AutoConfig.from_pretrained(base_model)
    except OSError as exc:
        raise TradeieError(
            f"base_model {base_model!r}: cannot load ({exc})".splitlines()[0],
            hint="give a local model folder or a Hub id available offline",
        ) from None
    limit = getattr(model_config, "max_position_embeddings", None)
    if limit is not None and config.max_length > limit:
        raise TradeieError(
            f"max_length = {config.max_length} exceeds the model's limit of {limit} positions",
            hint=f"--set max_length={limit}",
        )


def save_model_files(model, tokenizer, folder: Path) -> None:
    """save_pretrained of model and tokenizer, quietly, with ordinary (umask) file permissions."""
    with quiet_transformers():
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    mask = os.umask(0)
    os.umask(mask)
    for path in folder.iterdir():
        if path.is_file():
            os.chmod(path, 0o666 & ~mask)


def cleanup(path: Path) -> None:
    if is_main_process():
        shutil.rmtree(path, ignore_errors=True)


#: The training config saved beside every trained model.
SETTINGS_FILE = "training_config.json"


def load_trained(
    path: str | Path, auto_class: str, what: str, command: str, device: str | None = None
) -> tuple[Any, Any, dict[str, Any]]:
    """Load a saved model folder: (model in eval mode, tokenizer, its saved training config or {})."""
    import json

    import transformers

    path = Path(path)
    if not (path / "config.json").exists():
        raise TradeieError(f"{path}: no {what} model here (config.json missing)", hint=f"train one with `{command}`")
    with quiet_transformers():
        try:  # safetensors only: a pickled (.bin) checkpoint could run code on load
            model = getattr(transformers, auto_class).from_pretrained(path, use_safetensors=True)
            tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        except Exception as exc:  # e.g. SafetensorError on a truncated weights file
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise TradeieError(
                f"{path}: the {what} model folder is incomplete or corrupt ({first})",
                hint=f"train it again with `{command}`",
            ) from None
    settings_path = path / SETTINGS_FILE
    saved = json.loads(settings_path.read_text(encoding="utf-8")) if settings_path.exists() else {}
    if device:
        model.to(device)
    model.eval()
    return model, tokenizer, saved


def save_trained(
    output_dir: str | Path,
    task: str,
    model,
    tokenizer,
    config,
    base: str,
    metrics: dict[str, Any],
    dataset_name: str | None,
    *,
    settings_extra: dict[str, Any] | None = None,
    write_extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write a trained model folder atomically (rank 0 only), then wait for every rank.

    The folder holds the model and tokenizer, the training config (plus
    ``settings_extra``), ``metrics.json`` and the model card; ``write_extra``
    may add files (e.g. the NER gazetteer) before the folder is published.
    """
    from tradeie.io.atomic import atomic_directory, write_json_atomic
    from tradeie.training.modelcard import write_model_card

    output_dir = Path(output_dir)
    if is_main_process():
        with atomic_directory(output_dir) as tmp:
            save_model_files(model, tokenizer, tmp)
            if write_extra is not None:
                write_extra(tmp)
            write_json_atomic(tmp / SETTINGS_FILE, {**config.to_dict(), "base_model": base, **(settings_extra or {})})
            write_json_atomic(tmp / "metrics.json", metrics)
            write_model_card(tmp, task, config, metrics, base, dataset_name)
    barrier()
    return output_dir


# --------------------------------------------------------------- the shared fit


def prepare(config: TrainConfig) -> str:
    """Validate ``config``, set torch's threads and check ``max_length`` against the encoder; the base model."""
    config.validate()
    setup_torch(config)
    base = config.resolved_base_model()
    check_length(config, base)
    return base


def augmented_copies(config: TrainConfig, train_docs: Sequence[Document]) -> list[Document]:
    """Mention-replacement copies of ``train_docs`` when ``config.augment`` (seeded by the first seed), else []."""
    if not config.augment:
        return []
    from tradeie.training.augment import augment_documents

    return augment_documents(train_docs, config.augment_copies, config.augment_prob, config.seeds[0])


def label_counts(examples: Sequence[dict[str, Any]]) -> Counter:
    """How often each label id occurs in the examples' ``labels`` (one id or a list of ids; -100 ignored)."""
    counts: Counter = Counter()
    for example in examples:
        labels = example["labels"]
        for label in labels if isinstance(labels, list) else [labels]:
            if label != -100:
                counts[label] += 1
    return counts


@dataclass
class TrainingDocuments:
    """The documents of one fit: ``train`` (real), ``eval`` (scored, may be empty), ``augmented`` copies."""

    train: list[Document]
    eval: list[Document]
    augmented: list[Document]


@dataclass
class TaskParts:
    """What differs between the NER and the relation trainer; :func:`fit_model` does the rest."""

    #: ``"ner"`` or ``"re"`` (``metrics.json`` ``task``, the model card).
    task: str
    #: The classifier's labels in id order.
    labels: Sequence[str]
    #: Encoded training examples (``input_ids``, ``attention_mask``, ``labels``: an id or a list of ids).
    train: list[dict[str, Any]]
    #: Encoded examples scored every epoch for early stopping and the best checkpoint (empty: none).
    eval: list[dict[str, Any]]
    #: Per training example, its group for ``balanced_sampling``.
    groups: list[str]
    #: A freshly initialised model (called once per seed, after ``set_seed``, with load reports silenced).
    new_model: Callable[[], Any]
    collator: Any
    #: Trainer ``compute_metrics`` over ``eval``: ``f1`` and the ``selection`` score epochs are chosen on.
    epoch_metrics: Callable[[Any], dict[str, float]]
    #: The one scorer on the validation documents (seed choice, ``metrics.json`` ``eval``); None without them.
    score: Callable[[Any], dict[str, Any] | None]
    #: ``metrics.json`` entries from the kept model (test scores, end-to-end scores).
    report: Callable[[Any], dict[str, Any]]
    #: Task-specific ``metrics.json`` entries known before training.
    metrics: dict[str, Any] = field(default_factory=dict)
    preprocess_logits: Callable | None = None
    #: Extra entries of the saved training config.
    settings_extra: dict[str, Any] | None = None
    #: Writes extra files into the model folder before it is published.
    write_extra: Callable[[Path], None] | None = None


def fit_model(
    parts: TaskParts,
    config: TrainConfig,
    output_dir: str | Path,
    *,
    base: str,
    tokenizer,
    documents: TrainingDocuments,
    dataset_name: str | None,
) -> Path:
    """Train one model per seed on ``parts``, keep the best, score it and save the folder; return its path.

    The steps both trainers share: class-balanced sampling and class-weighted
    loss (``balanced_sampling``, ``class_weights``), the Trainer with early
    stopping and per-epoch timing, the seed loop with checkpoints and
    ``--resume`` (:func:`run_seeds`, seeds chosen by ``parts.score``),
    ``metrics.json`` and the model folder (:func:`save_trained`).
    """
    from transformers import set_seed

    from tradeie.training.timing import EpochTimer

    output_dir = Path(output_dir)
    has_eval = bool(parts.eval)
    sample_weights = balanced_sample_weights(parts.groups) if config.balanced_sampling else None
    loss_func = (
        weighted_loss(inverse_frequency_weights(label_counts(parts.train), len(parts.labels)))
        if config.class_weights
        else None
    )
    trainer_cls = make_trainer_class()

    def train_one(seed: int, args):
        from transformers import PrinterCallback

        desc = f"train {parts.task}" + (f" (seed {seed})" if len(config.seeds) > 1 else "")
        progress = training_progress(config.progress_bars, desc)
        set_seed(seed)
        with quiet_transformers():  # the new classifier head is expected to be missing
            model = parts.new_model()
        trainer = trainer_cls(
            model=model,
            args=args,
            train_dataset=ListDataset(parts.train),
            eval_dataset=ListDataset(parts.eval) if has_eval else None,
            data_collator=parts.collator,
            processing_class=tokenizer,
            compute_metrics=parts.epoch_metrics if has_eval else None,
            preprocess_logits_for_metrics=parts.preprocess_logits,
            compute_loss_func=loss_func,
            callbacks=[*early_stopping(config, has_eval), EpochTimer(), progress],
            sample_weights=sample_weights,
        )
        trainer.remove_callback(PrinterCallback)  # it prints each log dict to standard output
        try:
            with transformers_bars(False):  # checkpoint writes would each draw a bar, in CI logs too
                trainer.train()
        finally:
            progress.close()
        return trainer

    model, runs, best = run_seeds(config, checkpoint_dir(output_dir), has_eval, train_one, parts.score)
    metrics: dict[str, Any] = {
        "task": parts.task,
        "base_model": base,
        "dataset": dataset_name,
        "train_documents": [d.id for d in documents.train],
        "eval_documents": [d.id for d in documents.eval],
        "augmented_documents": len(documents.augmented),
        **parts.metrics,
        **seed_summary(runs, best),
        "eval": runs[best].eval,
    }
    metrics.update(parts.report(model))
    return save_trained(
        output_dir,
        parts.task,
        model,
        tokenizer,
        config,
        base,
        metrics,
        dataset_name,
        settings_extra=parts.settings_extra,
        write_extra=parts.write_extra,
    )


# ------------------------------------------------------------------ inference


def batched_probs(
    model,
    inputs: Sequence[Sequence[int]],
    pad_id: int,
    batch_size: int,
    extra_inputs: Callable[[list[int], int], dict[str, Any]] | None = None,
) -> Iterator[tuple[list[int], np.ndarray]]:
    """Softmax class probabilities of ``model`` over ``inputs`` (token id lists), shortest inputs first.

    Inputs are sorted by length (stable), batched by ``batch_size``, padded
    with ``pad_id`` and run under ``torch.inference_mode``. Yields, per batch,
    the indices into ``inputs`` and their probabilities: ``[batch, labels]``
    for a sequence classifier, ``[batch, width, labels]`` for a token
    classifier (an input's positions first, then padding).
    ``extra_inputs(indices, width)`` gives further model inputs of a batch
    (tensors; moved to the model's device).
    """
    import torch

    order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
    device = next(model.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            width = max(len(inputs[i]) for i in batch)
            ids = torch.tensor([[*inputs[i], *[pad_id] * (width - len(inputs[i]))] for i in batch], device=device)
            mask = torch.tensor([[1] * len(inputs[i]) + [0] * (width - len(inputs[i])) for i in batch], device=device)
            extra = {} if extra_inputs is None else {k: v.to(device) for k, v in extra_inputs(batch, width).items()}
            logits = model(input_ids=ids, attention_mask=mask, **extra).logits.float()
            yield batch, torch.softmax(logits, -1).cpu().numpy()
