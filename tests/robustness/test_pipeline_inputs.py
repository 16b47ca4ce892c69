"""Dataset, training, predict and evaluate: bad inputs give one line; interrupted runs lose nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robustness.helpers import cli_error, marked_doc
from tradeie.cli import main
from tradeie.corpus import document_tokens
from tradeie.document import Document, Entity
from tradeie.text.tokens import bio_tags, spans_from_bio, tokenize

TINY = [
    "epochs=2",
    "learning_rate=5e-3",
    "max_length=32",
    "stride=4",
    "seeds=[1]",
    "progress_bars=false",
    "device=cpu",
    "early_stopping_patience=0",
    "batch_size=4",
]
SENTENCES = [
    "[India|ACTOR|a1] and the [U.S.|ACTOR|a2]-[India|ACTOR|a3] talks produced a [trade deal|AGREEMENT|g1].",
    "[Washington|ACTOR|a4] cut [tariffs|TARIFF|t1] on [New Delhi|ACTOR|a5] goods under the "
    "[interim trade agreement|AGREEMENT|g2].",
    "The [E.U.|ACTOR|a6]-led talks with [Japan|ACTOR|a7] continue.",
]


def _docs() -> list[Document]:
    """Three documents, each holding every sentence (so every label is in every split)."""
    return [
        marked_doc(
            f"d{k}",
            " ".join(SENTENCES[(k + i) % 3] for i in range(3)),
            [("a1", "g1", "party_to"), ("a4", "t1", "imposes")],
        )
        for k in range(3)
    ]


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory) -> Path:
    from tradeie.data.dataset import build_dataset, write_hub_folder

    docs = _docs()
    out = tmp_path_factory.mktemp("robust-ds") / "ds"
    assignment = {"d0": "train", "d1": "validation", "d2": "test"}
    write_hub_folder(build_dataset(docs, assignment=assignment), docs, out, guidelines=None)
    return out


# --------------------------------------------------------------------------- token boundaries


@pytest.mark.parametrize(
    "text, surface",
    [
        ("U.S.-India talks", "U.S."),
        ("U.K.-India deal", "India"),
        ("E.U.-led talks", "E.U."),
        ("US-India ties", "India"),
    ],
)
def test_abbreviation_compounds_split(text, surface):
    tokens = [t.text for t in tokenize(text)]
    assert surface in tokens and "-" in tokens


def test_a_gold_span_inside_a_token_is_always_representable():
    doc = marked_doc("x", "The [Washington|ACTOR|a]'s envoy met [Ind|ACTOR|b]ia officials.")
    tokens = document_tokens(doc)
    tags = [bio_tags(t, doc.entities, doc.id) for t in tokens]
    assert [t.text for t in tokens[0]][:6] == ["The", "Washington", "'s", "envoy", "met", "Ind"]
    assert [s for t, g in zip(tokens, tags) for s in spans_from_bio(t, g)] == [e.key for e in doc.entities]


def test_predictions_ending_inside_a_token_are_snapped_the_same_way_everywhere():
    from tradeie.evaluation.evaluate import evaluate_documents
    from tradeie.evaluation.scores import AlignmentStats, _snap

    gold = marked_doc("x", "[Washington|ACTOR|a] and [U.S.|ACTOR|b]-[India|ACTOR|c] talks began.")
    text = gold.text
    pred = gold.with_annotations(
        [
            Entity(0, 8, "ACTOR", "p1", text[0:8]),  # 'Washingt'
            Entity(15, 21, "ACTOR", "p2", text[15:21]),  # 'U.S.-I'
            Entity(27, 29, "ACTOR", "p3", text[27:29]),
        ]
    )  # 'al' of 'talks'
    stats = AlignmentStats()
    snapped = _snap(pred, document_tokens(gold), stats)
    assert [(e.start, e.end, text[e.start : e.end]) for e in snapped] == [
        (0, 10, "Washington"),
        (15, 25, "U.S.-India"),
        (26, 31, "talks"),
    ]
    assert stats.snapped == 3
    metrics = evaluate_documents([gold], [pred])
    assert metrics["ner"]["token_alignment"]["snapped"] == 3
    # the same snapping whichever document order or stage calls it: a second pass changes nothing
    again = AlignmentStats()
    assert _snap(pred.with_annotations(snapped), document_tokens(gold), again) == snapped and again.snapped == 0


def test_evaluate_gold_on_us_india_does_not_fail(capsys, tmp_path):
    gold = marked_doc("x", "The [U.S.|ACTOR|a]-[India|ACTOR|b] deal and the [U.K.|ACTOR|c]-[India|ACTOR|d] pact.")
    rows = [{"id": gold.id, "text": gold.text, "entities": [e.to_dict() for e in gold.entities], "relations": []}]
    (tmp_path / "gold.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert (
        main(
            [
                "evaluate",
                "--predictions",
                str(tmp_path / "gold.jsonl"),
                "--gold",
                str(tmp_path / "gold.jsonl"),
                "--out",
                str(tmp_path / "eval"),
            ]
        )
        == 0
    )
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["ner"]["token_alignment"]["snapped"] == 0


# --------------------------------------------------------------------------- evaluate pairing


def _write_docs(path: Path, docs: list[Document]) -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": d.id, "text": d.text, "entities": [e.to_dict() for e in d.entities], "relations": []})
            + "\n"
            for d in docs
        ),
        encoding="utf-8",
    )
    return path


def test_predictions_for_documents_absent_from_the_gold_and_the_reverse(capsys, tmp_path):
    a, b = marked_doc("a", "[India|ACTOR] signed."), marked_doc("b", "[Japan|ACTOR] agreed.")
    gold = _write_docs(tmp_path / "gold.jsonl", [a])
    preds = _write_docs(tmp_path / "preds.jsonl", [a, b])
    line = cli_error(capsys, ["evaluate", "--predictions", preds, "--gold", gold, "--out", tmp_path / "e1"])
    assert "predictions: 1 prediction(s) for document(s) not in the gold: b" in line and "(fix: " in line
    line = cli_error(capsys, ["evaluate", "--predictions", gold, "--gold", preds, "--out", tmp_path / "e2"])
    assert "predictions: no prediction for 1 gold document(s): b" in line
    assert not (tmp_path / "e1").exists() and not (tmp_path / "e2").exists()


# --------------------------------------------------------------------------- dataset


def test_empty_split_and_label_missing_from_a_split(dataset_dir):
    from tradeie.data.dataset import build_dataset

    docs = _docs()
    built = build_dataset(docs, assignment={"d0": "train", "d1": "train", "d2": "train"})
    assert sorted(built["ner"]) == ["train"]  # empty validation/test splits are left out, not written empty
    line_docs = [marked_doc("t", "[India|ACTOR] signed."), marked_doc("v", "[Japan|ACTOR] cut [tariffs|TARIFF].")]
    built = build_dataset(line_docs, assignment={"t": "train", "v": "validation"})
    assert sorted(built["ner"]) == ["train", "validation"]


ALL_LABELS = (
    "[India|ACTOR|a1] signed the [trade deal|AGREEMENT|g1]. [Washington|ACTOR|a2] cut [tariffs|TARIFF|t1] "
    "on [Japan|ACTOR|a3] under the [pact|AGREEMENT|g2].",
    [("a1", "g1", "party_to"), ("a2", "t1", "imposes"), ("t1", "a3", "targets"), ("t1", "g2", "part_of")],
)


def test_a_label_missing_from_a_split_is_one_warning_line(caplog):
    from tradeie.data.dataset import build_dataset

    docs = [
        marked_doc("t", *ALL_LABELS),
        marked_doc("v", "[India|ACTOR|a1] signed the [trade deal|AGREEMENT|g1].", [("a1", "g1", "party_to")]),
        marked_doc("x", ALL_LABELS[0], ALL_LABELS[1][1:]),
    ]
    with caplog.at_level("WARNING", logger="tradeie.data.dataset"):
        build_dataset(docs, assignment={"t": "train", "v": "validation", "x": "test"})
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("dataset: the ")] == [
        "dataset: the validation split has no TARIFF mention and no imposes, targets or part_of relation; "
        "scores for TARIFF, imposes, targets, part_of on it will be undefined",
        "dataset: the test split has no party_to relation; scores for party_to on it will be undefined",
    ]
    caplog.clear()
    with caplog.at_level("WARNING", logger="tradeie.data.dataset"):
        build_dataset(docs[1:], assignment={"v": "train", "x": "validation"})
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("dataset: the ")] == [
        "dataset: the train split has no TARIFF mention and no imposes, targets or part_of relation; "
        "a model trained on it cannot learn TARIFF, imposes, targets, part_of",
        "dataset: the validation split has no party_to relation; scores for party_to on it will be undefined",
    ]


def test_a_train_command_on_an_empty_train_split(capsys, tmp_path, repo_root):
    from tradeie.data.dataset import build_dataset, write_hub_folder

    docs = [marked_doc("v", "[Japan|ACTOR] cut [tariffs|TARIFF].")]
    write_hub_folder(build_dataset(docs, assignment={"v": "validation"}), docs, tmp_path / "ds", guidelines=None)
    line = cli_error(
        capsys,
        [
            "train",
            "baseline",
            "--config",
            repo_root / "training/baseline.toml",
            "--dataset",
            tmp_path / "ds",
            "--output",
            tmp_path / "run",
        ],
    )
    assert line == f"tradeie: error: {tmp_path / 'ds'}: the train split is empty (fix: rebuild the dataset)"


@pytest.mark.parametrize(
    "content, expected",
    [
        ('task = "ner"\nepohcs = 3\n', "unknown key 'epohcs' for a ner config (fix: did you mean 'epochs'?)"),
        ('task = "ner"\nepochs = "ten"\n', "epochs: expected a number, got 'ten'"),
        ('task = "ner"\nepochs = [\n', "invalid TOML"),
    ],
)
def test_config_file_with_unknown_key_wrong_type_or_bad_syntax(capsys, tmp_path, content, expected):
    config = tmp_path / "ner.toml"
    config.write_text(content, encoding="utf-8")
    line = cli_error(capsys, ["train", "ner", "--config", config, "--output", tmp_path / "run"])
    assert line.startswith(f"tradeie: error: {config}") and expected in line


@pytest.mark.parametrize("damage", ["missing", "empty", "no-config", "corrupt-weights"])
def test_missing_or_corrupt_model_directory(capsys, tmp_path, tiny_model, damage):
    import shutil

    run = tmp_path / "run"
    if damage != "missing":
        (run / "ner").mkdir(parents=True)
    if damage in ("no-config", "corrupt-weights"):
        for item in tiny_model.iterdir():
            shutil.copy(item, run / "ner" / item.name)
    if damage == "no-config":
        (run / "ner" / "config.json").unlink()
    if damage == "corrupt-weights":
        weights = run / "ner" / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:100])
    (tmp_path / "in.txt").write_text("India signed.", encoding="utf-8")
    line = cli_error(capsys, ["predict", "--model", run, tmp_path / "in.txt", "--output", tmp_path / "p.jsonl"])
    expected = {
        "missing": "model folder not found",
        "empty": "no trained NER model",
        "no-config": "no trained NER model",
        "corrupt-weights": "model folder is incomplete or corrupt",
    }
    assert expected[damage] in line and str(run) in line
    assert not (tmp_path / "p.jsonl").exists()


def test_a_document_longer_than_the_model_limit_is_windowed_not_truncated(tmp_path, tiny_model):
    from tradeie.training.ner import window_spans

    word_ids = [None, *range(1000), None]
    spans = window_spans(word_ids, 64, 16)
    covered = sorted({w for s, e in spans for w in word_ids[s:e] if w is not None})
    assert covered == list(range(1000))


# --------------------------------------------------------------------------- runs: overwrite, interrupt, resume


def _train(task: str, dataset_dir: Path, run: Path, tiny_model: Path, repo_root: Path, *extra: str) -> list[str]:
    sets = [x for kv in [*TINY, f"base_model={tiny_model}"] for x in ("--set", kv)]
    return [
        "train",
        task,
        "--config",
        str(repo_root / f"training/{task}.toml"),
        *sets,
        "--dataset",
        str(dataset_dir),
        "--output",
        str(run),
        *extra,
    ]


def test_existing_run_directory_is_refused_unless_overwrite(capsys, tmp_path, dataset_dir, repo_root):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "baseline",
                "--config",
                str(repo_root / "training/baseline.toml"),
                "--dataset",
                str(dataset_dir),
                "--output",
                str(run),
            ]
        )
        == 0
    )
    before = {p: p.stat().st_mtime_ns for p in (run / "baselines").rglob("*")}
    line = cli_error(
        capsys,
        [
            "train",
            "baseline",
            "--config",
            repo_root / "training/baseline.toml",
            "--dataset",
            dataset_dir,
            "--output",
            run,
        ],
    )
    assert line == (
        f"tradeie: error: {run / 'baselines'}: already exists (a trained model); refusing to replace it "
        "(fix: pass --overwrite to replace it, or choose another --output)"
    )
    assert {p: p.stat().st_mtime_ns for p in (run / "baselines").rglob("*")} == before
    assert (
        main(
            [
                "train",
                "baseline",
                "--config",
                str(repo_root / "training/baseline.toml"),
                "--dataset",
                str(dataset_dir),
                "--output",
                str(run),
                "--overwrite",
            ]
        )
        == 0
    )


def test_interrupted_training_keeps_no_output_and_resumes_from_its_last_checkpoint(
    capsys, tmp_path, dataset_dir, tiny_model, repo_root, monkeypatch
):
    import transformers
    from transformers import TrainerCallback

    from tradeie.training import common

    class StopAfterFirstSave(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise KeyboardInterrupt  # as if Ctrl-C arrived right after the first epoch's checkpoint

    original = common.early_stopping
    monkeypatch.setattr(common, "early_stopping", lambda *a: [*original(*a), StopAfterFirstSave()])
    run = tmp_path / "run"
    assert main(_train("ner", dataset_dir, run, tiny_model, repo_root)) == 130
    assert "tradeie: interrupted" in capsys.readouterr().err
    assert not (run / "ner").exists()  # nothing half-written where predict/evaluate would read it
    work = common.checkpoint_dir(run / "ner")
    checkpoint = common.last_checkpoint(work / "seed-1")
    assert checkpoint is not None and Path(checkpoint).name == "checkpoint-1"

    monkeypatch.setattr(common, "early_stopping", original)
    resumed_from = []
    train = transformers.Trainer.train

    def spy(self, resume_from_checkpoint=None, *args, **kwargs):
        resumed_from.append(resume_from_checkpoint)
        return train(self, resume_from_checkpoint, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "train", spy)
    assert main(_train("ner", dataset_dir, run, tiny_model, repo_root, "--resume")) == 0
    assert resumed_from == [checkpoint]
    metrics = json.loads((run / "ner" / "metrics.json").read_text())
    assert metrics["seeds"][0]["steps"] == 2 and metrics["seeds"][0]["epochs"] == 2.0
    assert not work.exists()  # checkpoints removed once the run finished
    line = cli_error(capsys, _train("ner", dataset_dir, tmp_path / "other", tiny_model, repo_root, "--resume"))
    assert "no checkpoint to resume from" in line


#: Runs ``tradeie ARGV`` with a callback that stalls right after the first checkpoint is written,
#: so that the test can SIGKILL a real training process at a known point (no handler runs).
_STALL_AFTER_FIRST_CHECKPOINT = """
import sys, time
from transformers import TrainerCallback
from tradeie.training import common

class Stall(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        print("checkpoint written", flush=True)
        time.sleep(600)

original = common.early_stopping
common.early_stopping = lambda *a: [*original(*a), Stall()]
from tradeie.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow  # a training process started, killed and resumed: about 20 s
def test_killed_training_process_leaves_no_model_and_resumes_from_its_checkpoint(
    tmp_path, dataset_dir, tiny_model, repo_root
):
    import os
    import signal
    import subprocess
    import sys

    from tradeie.training import common

    run = tmp_path / "run"
    argv = [str(a) for a in _train("ner", dataset_dir, run, tiny_model, repo_root)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.Popen(
        [sys.executable, "-c", _STALL_AFTER_FIRST_CHECKPOINT, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        lines = iter(proc.stdout.readline, "")
        assert any(line.strip() == "checkpoint written" for line in lines)  # the trainer logs to stdout too
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (run / "ner").exists()  # no model folder where predict would read one
    work = common.checkpoint_dir(run / "ner")
    checkpoint = common.last_checkpoint(work / "seed-1")
    assert checkpoint is not None and Path(checkpoint).name == "checkpoint-1"

    assert main([*argv, "--resume"]) == 0
    metrics = json.loads((run / "ner" / "metrics.json").read_text())
    assert metrics["seeds"][0]["steps"] == 2 and metrics["seeds"][0]["epochs"] == 2.0
    assert not work.exists()


def test_interrupted_dataset_build_leaves_no_half_written_folder(tmp_path, monkeypatch):
    import tradeie.data.dataset as dataset_module
    from tradeie.data.dataset import build_dataset, write_hub_folder

    docs = _docs()
    built = build_dataset(docs, assignment={"d0": "train", "d1": "validation", "d2": "test"})
    out = tmp_path / "ds"
    write_hub_folder(built, docs, out, guidelines=None)
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(dataset_module, "hub_metadata", boom)
    with pytest.raises(KeyboardInterrupt):
        write_hub_folder(built, docs, out, guidelines=None)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # the temp folder is gone too
