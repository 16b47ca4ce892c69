"""A toy dataset folder and tiny training commands shared by the CLI stdout, progress and kill tests."""

from __future__ import annotations

from pathlib import Path

from robustness.helpers import marked_doc

SENTENCES = [
    "[India|ACTOR|a1] and the [U.S.|ACTOR|a2] signed a [trade deal|AGREEMENT|g1] on Monday.",
    "[Washington|ACTOR|a4] cut [tariffs|TARIFF|t1] on [Japan|ACTOR|a5] goods under the "
    "[interim trade agreement|AGREEMENT|g2].",
    "Officials from [Japan|ACTOR|a7] met for talks in the capital.",
]
#: Tiny-BERT training settings: CPU, one seed, no early stopping (a fixed number of epochs).
TINY = [
    "learning_rate=5e-3",
    "max_length=32",
    "stride=4",
    "seeds=[1]",
    "device=cpu",
    "early_stopping_patience=0",
    "batch_size=4",
    "logging_steps=1000",
]


def toy_documents(n: int = 3):
    """``n`` documents holding every sentence (every label in every split), with relations."""
    return [
        marked_doc(
            f"d{k}",
            " ".join(SENTENCES[(k + i) % 3] for i in range(3)),
            [("a1", "g1", "party_to"), ("a4", "t1", "imposes")],
        )
        for k in range(n)
    ]


def build_toy_dataset(out: Path) -> Path:
    """A dataset folder of three documents: d0 train, d1 validation, d2 test."""
    from tradeie.data.dataset import build_dataset, write_hub_folder

    docs = toy_documents()
    assignment = {"d0": "train", "d1": "validation", "d2": "test"}
    write_hub_folder(build_dataset(docs, assignment=assignment), docs, out, guidelines=None)
    return out


def train_ner_argv(dataset: Path, run: Path, tiny_model: Path, repo_root: Path, *sets: str) -> list[str]:
    """``tradeie train ner`` on ``dataset`` into ``run`` with the tiny BERT, :data:`TINY` and ``sets``."""
    pairs = [x for kv in [*TINY, f"base_model={tiny_model}", *sets] for x in ("--set", kv)]
    return [
        "train",
        "ner",
        "--config",
        str(repo_root / "training/ner.toml"),
        *pairs,
        "--dataset",
        str(dataset),
        "--output",
        str(run),
    ]
