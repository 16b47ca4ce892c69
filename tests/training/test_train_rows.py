"""`tradeie train ner` trains on the dataset folder's published `ner` rows; documents become the same rows."""

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
