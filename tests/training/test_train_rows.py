"""`tradeie train ner|re` train on the dataset folder's published `ner` / `relations` rows; documents give the same."""

from __future__ import annotations

import pytest

from tradeie.schema import BIO_TAGS


class _Captured(Exception):
    """Raised once the training and validation rows were seen (no model is trained)."""


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory, toy_docs):
    from tradeie.data.dataset import build_dataset, write_hub_folder

    out = tmp_path_factory.mktemp("dataset") / "ds"
    write_hub_folder(build_dataset(toy_docs), toy_docs, out, guidelines=None)
    return out


@pytest.fixture
def captured(monkeypatch):
    """The (tokens, starts, ends, tags) rows fit_ner turns into windows: [train rows, validation rows]."""
    import tradeie.training.ner as ner

    seen: list[list[tuple]] = []

    def capture(tokenizer, rows, *args, **kwargs):
        seen.append(
            [
                ([t.text for t in toks], [t.start for t in toks], [t.end for t in toks], list(tags))
                for toks, tags in rows
            ]
        )
        if len(seen) == 2:
            raise _Captured
        return []

    monkeypatch.setattr(ner, "window_features", capture)
    return seen


def _published(split) -> list[tuple]:
    return [(r["tokens"], r["token_starts"], r["token_ends"], [BIO_TAGS[i] for i in r["ner_tags"]]) for r in split]


def test_train_ner_reads_the_published_rows(dataset_dir, captured, tmp_path, repo_root, tiny_model, capsys):
    from tradeie.cli import main
    from tradeie.data.dataset import load_hub_folder

    # the capture stops the command once it has the rows (reported as an internal error, exit status 1)
    assert (
        main(
            [
                "train",
                "ner",
                "--config",
                str(repo_root / "training/ner.toml"),
                "--set",
                f"base_model={tiny_model}",
                "--set",
                "augment=false",
                "--dataset",
                str(dataset_dir),
                "--output",
                str(tmp_path / "run"),
            ]
        )
        == 1
    )
    assert "_Captured" in capsys.readouterr().err
    published = load_hub_folder(dataset_dir, "ner")  # what datasets.load_dataset(folder, "ner") gives a user
    assert len(captured[0]) == published["train"].num_rows > 0
    assert captured == [_published(published["train"]), _published(published["validation"])]


def test_documents_become_the_published_rows(dataset_dir, captured, tmp_path, ner_config):
    """Cross-validation folds train from Documents: through ner_rows they give the very same rows."""
    from tradeie.data.dataset import documents_from_dataset, load_hub_folder
    from tradeie.training.ner import fit_ner

    docs = documents_from_dataset(load_hub_folder(dataset_dir, "documents"))
    train = [d for d in docs if d.meta["split"] == "train"]
    validation = [d for d in docs if d.meta["split"] == "validation"]
    with pytest.raises(_Captured):
        fit_ner(train, validation, ner_config, tmp_path / "ner")
    published = load_hub_folder(dataset_dir, "ner")
    assert captured == [_published(published["train"]), _published(published["validation"])]


# ------------------------------------------------------------------ relations rows


@pytest.fixture
def captured_pairs(monkeypatch):
    """The ``relations`` rows fit_re turns into examples: [train rows, validation rows]."""
    import tradeie.training.relation as relation

    seen: list[list[dict]] = []
    encode = relation.pair_examples

    def capture(tokenizer, rows, max_length):
        seen.append([dict(row) for row in rows])
        if len(seen) == 2:
            raise _Captured
        return encode(tokenizer, rows, max_length)

    monkeypatch.setattr(relation, "pair_examples", capture)
    return seen


def _train_re(dataset_dir, output, repo_root, tiny_model, *sets: str) -> list[str]:
    options = [x for kv in (f"base_model={tiny_model}", "augment=false", *sets) for x in ("--set", kv)]
    return [
        "train",
        "re",
        "--config",
        str(repo_root / "training/re.toml"),
        *options,
        "--dataset",
        str(dataset_dir),
        "--output",
        str(output),
    ]


def test_train_re_reads_the_published_rows(dataset_dir, captured_pairs, tmp_path, repo_root, tiny_model, capsys):
    import datasets

    from tradeie.cli import main

    assert main(_train_re(dataset_dir, tmp_path / "run", repo_root, tiny_model)) == 1
    assert "_Captured" in capsys.readouterr().err
    published = datasets.load_dataset(str(dataset_dir), "relations")  # what a user's own script gets
    train, validation = list(published["train"]), list(published["validation"])
    assert len(captured_pairs[0]) == len(train) == 36 and len(validation) == 16
    assert sum(row["label"] != 0 for row in train) == 32  # positives (label 0 is no_relation)
    assert captured_pairs == [train, validation]


def test_documents_become_the_published_relation_rows(dataset_dir, captured_pairs, tmp_path, re_config):
    """Cross-validation folds and systems train from Documents: through relation_rows, the very same rows."""
    import datasets

    from tradeie.data.dataset import documents_from_dataset, load_hub_folder
    from tradeie.training.relation import fit_re

    docs = documents_from_dataset(load_hub_folder(dataset_dir, "documents"))
    train = [d for d in docs if d.meta["split"] == "train"]
    validation = [d for d in docs if d.meta["split"] == "validation"]
    with pytest.raises(_Captured):
        fit_re(train, validation, re_config, tmp_path / "re")
    published = datasets.load_dataset(str(dataset_dir), "relations")
    assert captured_pairs == [list(published["train"]), list(published["validation"])]


@pytest.fixture(scope="module")
def wide_dataset_dir(tmp_path_factory, toy_docs):
    """The toy documents built with candidate pairs up to one sentence apart."""
    from tradeie.data.dataset import build_dataset, write_hub_folder

    out = tmp_path_factory.mktemp("dataset") / "wide"
    write_hub_folder(build_dataset(toy_docs, window=1), toy_docs, out, guidelines=None, window=1)
    return out


def test_a_smaller_window_trains_on_the_nearer_published_rows(
    wide_dataset_dir, captured_pairs, tmp_path, repo_root, tiny_model, capsys
):
    import datasets

    from tradeie.cli import main

    assert main(_train_re(wide_dataset_dir, tmp_path / "run", repo_root, tiny_model, "window=0")) == 1
    assert "_Captured" in capsys.readouterr().err
    published = datasets.load_dataset(str(wide_dataset_dir), "relations")
    assert [len(published[s]) for s in ("train", "validation")] == [111, 46]
    assert captured_pairs == [
        [row for row in published[split] if row["sentence_distance"] == 0] for split in ("train", "validation")
    ]
    assert [len(rows) for rows in captured_pairs] == [36, 16]


def test_a_window_wider_than_the_published_rows_is_refused(dataset_dir, tmp_path, repo_root, tiny_model, capsys):
    from tradeie.cli import main

    assert main(_train_re(dataset_dir, tmp_path / "run", repo_root, tiny_model, "window=1")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "relations rows pair mentions at most 0 sentence(s) apart, fewer than window = 1" in err
    assert "tradeie dataset build --window 1" in err
    assert not (tmp_path / "run").exists()
