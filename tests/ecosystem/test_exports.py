"""spaCy and CoNLL exports, read back by the real consumers (spaCy's DocBin and CoNLL reader, `spacy train`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tradeie.cli import main
from tradeie.data.dataset import load_hub_folder
from tradeie.data.exports import DOCSTART, FILE_NAMES, read_spacy_relations


def _expected(ner_split):
    """Per document (in order): words, sentence starts and entity (start token, end token, label) from the ner rows."""
    from tradeie.text.tokens import Token, spans_from_bio

    names = ner_split.features["ner_tags"].feature.names
    docs: dict[int, dict] = {}
    for row in sorted(ner_split, key=lambda r: (r["document_id"], r["sentence_id"])):
        d = docs.setdefault(row["document_id"], {"name": row["document_name"], "words": [], "starts": [], "ents": []})
        offset = len(d["words"])
        tokens = [Token(t, s, e) for t, s, e in zip(row["tokens"], row["token_starts"], row["token_ends"])]
        for s, e, label in spans_from_bio(tokens, [names[t] for t in row["ner_tags"]]):
            first = next(i for i, t in enumerate(tokens) if t.start == s)
            last = next(i for i, t in enumerate(tokens) if t.end == e)
            d["ents"].append((offset + first, offset + last + 1, label))
        d["words"] += row["tokens"]
        d["starts"] += [True] + [False] * (len(tokens) - 1)
    return list(docs.values())


def test_conll_export_read_back_by_spacy_converter(gold_hub, tmp_path, capsys):
    from spacy.training.converters import conll_ner_to_docs

    out = tmp_path / "conll"
    assert main(["dataset", "export", str(gold_hub), "--format", "conll", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "dev.conll",
        "test.conll",
        "train.conll",
    ]
    ner = load_hub_folder(gold_hub, "ner")
    for split, name in FILE_NAMES["conll"].items():
        text = (out / name).read_text(encoding="utf-8")
        expected = _expected(ner[split])
        assert text.count(DOCSTART) == len(expected)
        assert text.startswith(DOCSTART + "\n\n")
        docs = list(conll_ner_to_docs(text, n_sents=0, no_print=True))
        assert len(docs) == len(expected)
        for doc, exp in zip(docs, expected):
            assert [t.text for t in doc] == exp["words"]
            assert [bool(t.is_sent_start) for t in doc] == exp["starts"]
            assert [(e.start, e.end, e.label_) for e in doc.ents] == exp["ents"]
    capsys.readouterr()
    assert main(["dataset", "export", str(gold_hub), "--format", "conll", "--split", "test", "--out", "-"]) == 0
    assert capsys.readouterr().out == (out / "test.conll").read_text(encoding="utf-8")


def test_spacy_export_docbin_layout(gold_hub, tmp_path):
    import spacy
    from spacy.tokens import DocBin

    from tradeie.data.dataset import documents_from_dataset

    out = tmp_path / "spacy"
    assert main(["dataset", "export", str(gold_hub), "--format", "spacy", "--out", str(out)]) == 0
    assert (out / "config.cfg").read_text(encoding="utf-8").count('train = "train.spacy"') == 1
    gold = {d.id: d for d in documents_from_dataset(load_hub_folder(gold_hub, "documents"))}
    nlp = spacy.blank("en")
    seen = []
    for split, name in FILE_NAMES["spacy"].items():
        for doc in DocBin().from_disk(out / name).get_docs(nlp.vocab):
            g = gold[doc.user_data["doc_id"]]
            seen.append(g.id)
            assert doc.user_data["split"] == split == g.meta["split"]
            assert doc.text == g.text
            ents = sorted(g.entities, key=lambda e: e.start)
            assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [(e.start, e.end, e.label) for e in ents]
            assert list(doc.user_data["entity_ids"]) == [e.id for e in ents]  # msgpack gives tuples back
            index = g.entity_index()
            assert sorted((h.start_char, label, t.start_char) for h, label, t in read_spacy_relations(doc)) == sorted(
                (index[r.head].start, r.label, index[r.tail].start) for r in g.relations
            )
    assert sorted(seen) == sorted(gold)


@pytest.mark.slow
def test_spacy_train_one_short_epoch_on_the_export(gold_hub, tmp_path):
    import spacy

    out = tmp_path / "spacy"
    assert main(["dataset", "export", str(gold_hub), "--format", "spacy", "--out", str(out)]) == 0
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spacy",
            "train",
            "config.cfg",
            "--output",
            str(tmp_path / "model"),
            "--training.max_epochs",
            "1",
            "--training.max_steps",
            "4",
            "--training.eval_frequency",
            "2",
        ],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    nlp = spacy.load(tmp_path / "model" / "model-last")
    assert nlp.pipe_names == ["tok2vec", "ner"]
    assert set(nlp.get_pipe("ner").labels) == {"ACTOR", "AGREEMENT", "TARIFF"}
    doc = nlp("India and the United States signed an interim trade agreement.")
    assert doc.text == "India and the United States signed an interim trade agreement."
