"""The published dataset in the formats older tools read: spaCy ``DocBin`` and CoNLL BIO columns.

Both exports are read from a dataset folder written by ``tradeie dataset build``
(the ``ner`` config for tokens, sentences and tags; the ``documents`` config
for texts, entity ids and relations), so they hold exactly the published tokens.

spaCy (``train.spacy``, ``dev.spacy``, ``test.spacy`` and ``config.cfg``), one
``Doc`` per document whose ``doc.text`` is the document text, character for
character (whitespace other than one space between tokens becomes
whitespace tokens, as spaCy's own tokenizer does):

* ``doc.ents``: the entities; sentence starts set from the ``ner`` rows;
* ``doc.user_data["doc_id"]``: the document's id (``document_name``),
  ``doc.user_data["split"]``: its split;
* ``doc.user_data["entity_ids"]``: entity ids, parallel to ``doc.ents``;
* ``doc.user_data["relations"]``: ``[{"head": i, "tail": j, "label": "party_to"}]``
  where ``i`` and ``j`` index ``doc.ents`` (``doc.ents[i]`` is the head span;
  :func:`read_spacy_relations` gives ``(head span, label, tail span)``). ``DocBin``
  stores ``user_data`` with msgpack, so lists come back as tuples.

CoNLL (``train.conll``, ``dev.conll``, ``test.conll``): one ``TOKEN TAG``
line per token (IOB2 tags as in the ``ner`` config), a blank line after each
sentence, and the line :data:`DOCSTART` plus a blank line before each document.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tradeie.errors import TradeieError

FORMATS = ("spacy", "conll")
#: Output file of each split, per format (``validation`` is spaCy's and CoNLL's ``dev``).
FILE_NAMES = {
    "spacy": {"train": "train.spacy", "validation": "dev.spacy", "test": "test.spacy"},
    "conll": {"train": "train.conll", "validation": "dev.conll", "test": "test.conll"},
}
#: Document separator line (CoNLL-2003 style, as ``spacy convert`` and other column readers expect).
DOCSTART = "-DOCSTART- -X- O O"


@dataclass
class ExportResult:
    """What an export wrote: file name -> (documents, sentences, tokens, entities)."""

    out: str
    fmt: str
    files: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"{self.out}/{name}: {d} documents, {s} sentences, {t} tokens, {e} entities"
            for name, (d, s, t, e) in self.files.items()
        ]


def _by_document(ner_split) -> list[tuple[str, list[dict[str, Any]]]]:
    """``ner`` rows grouped per document, in (document_id, sentence_id) order."""
    groups: dict[int, tuple[str, list[dict]]] = {}
    for row in ner_split:
        groups.setdefault(row["document_id"], (row["document_name"], []))[1].append(row)
    return [(name, sorted(rows, key=lambda r: r["sentence_id"])) for _, (name, rows) in sorted(groups.items())]


def conll_text(ner_split) -> str:
    """One split of the ``ner`` config as CoNLL text (see the module docstring)."""
    names = ner_split.features["ner_tags"].feature.names
    out: list[str] = []
    for doc_name, rows in _by_document(ner_split):
        out += [DOCSTART, ""]
        for row in rows:
            for token, tag, start in zip(row["tokens"], row["ner_tags"], row["token_starts"]):
                if not token or any(c.isspace() for c in token):
                    raise TradeieError(
                        f"document {doc_name}: token {token!r} at offset {start} is empty or holds "
                        "whitespace; CoNLL columns cannot represent it",
                        hint="rebuild the dataset with this version of tradeie",
                    )
                out.append(f"{token} {names[tag]}")
            out.append("")
    return "\n".join(out) + ("\n" if out else "")


def _words_and_spaces(text: str, rows: list[dict[str, Any]]) -> tuple[list[str], list[bool], list[bool | None]]:
    """spaCy words/spaces/sent_starts reproducing ``text`` exactly from the rows' token offsets."""
    words: list[str] = []
    spaces: list[bool] = []
    starts: list[bool | None] = []

    def gap(chunk: str) -> None:
        if not chunk:
            return
        if words and chunk[0] == " " and not spaces[-1]:
            spaces[-1] = True
            chunk = chunk[1:]
        if chunk:  # extra whitespace becomes a whitespace token, as spaCy's tokenizer does
            words.append(chunk)
            spaces.append(False)
            starts.append(False if words[:-1] else True)

    pos = 0
    for row in rows:
        for k, (s, e) in enumerate(zip(row["token_starts"], row["token_ends"])):
            gap(text[pos:s])
            words.append(text[s:e])
            spaces.append(False)
            starts.append(k == 0)
            pos = e
    gap(text[pos:])
    return words, spaces, starts


def spacy_docs(ner_split, documents_split, vocab, split: str) -> list:
    """One spaCy ``Doc`` per document of a split (layout in the module docstring)."""
    from spacy.tokens import Doc

    from tradeie.data.dataset import _item

    docs_config = {row["id"]: row for row in documents_split}
    ent_names = _item(documents_split.features["entities"])["label"].names
    rel_names = _item(documents_split.features["relations"])["label"].names
    out = []
    for name, rows in _by_document(ner_split):
        drow = docs_config.get(name)
        if drow is None:
            raise TradeieError(
                f"split {split}: document {name} is in the ner config but not in documents",
                hint="rebuild the dataset folder with `tradeie dataset build`",
            )
        text = drow["text"]
        words, spaces, starts = _words_and_spaces(text, rows)
        doc = Doc(vocab, words=words, spaces=spaces, sent_starts=starts)
        if doc.text != text:
            raise TradeieError(
                f"document {name}: the ner tokens do not reproduce the document text",
                hint="rebuild the dataset folder with `tradeie dataset build`",
            )
        spans, ids = [], []
        for ent in sorted(drow["entities"], key=lambda e: (e["start"], e["end"])):
            span = doc.char_span(ent["start"], ent["end"], label=ent_names[ent["label"]])
            if span is None:
                raise TradeieError(
                    f"document {name}: entity [{ent['start']}:{ent['end']}] {ent['text']!r} does "
                    "not lie on token boundaries",
                    hint="rebuild the dataset folder",
                )
            spans.append(span)
            ids.append(ent["id"])
        doc.ents = spans
        index = {eid: i for i, eid in enumerate(ids)}
        doc.user_data["doc_id"] = name
        doc.user_data["split"] = split
        doc.user_data["entity_ids"] = ids
        doc.user_data["relations"] = [
            {"head": index[r["head"]], "tail": index[r["tail"]], "label": rel_names[r["label"]]}
            for r in drow["relations"]
        ]
        out.append(doc)
    return out


def spacy_config() -> str:
    """A ready ``config.cfg`` (blank English ``ner`` pipeline, CPU, efficiency) reading the exported files."""
    from spacy.cli.init_config import init_config

    config = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=False, silent=True)
    config["paths"]["train"] = FILE_NAMES["spacy"]["train"]
    config["paths"]["dev"] = FILE_NAMES["spacy"]["validation"]
    header = (
        "# spaCy training config written by `tradeie dataset export --format spacy`.\n"
        "# Run from this folder: python -m spacy train config.cfg --output model\n"
    )
    return header + config.to_str()


def _counts(ner_split) -> tuple[int, int, int, int]:
    names = ner_split.features["ner_tags"].feature.names
    tags = [names[t] for row in ner_split["ner_tags"] for t in row]
    return (len(set(ner_split["document_id"])), len(ner_split), len(tags), sum(t.startswith("B-") for t in tags))


def _splits(ner, split: str | None) -> Iterable[str]:
    if split is None:
        return [s for s in FILE_NAMES["conll"] if s in ner]
    if split not in ner:
        raise TradeieError(f"dataset: no split {split!r}", hint=f"use one of {', '.join(ner)}")
    return [split]


def export_dataset(
    folder: str | os.PathLike, out: str | os.PathLike | None, fmt: str, split: str | None = None
) -> tuple[ExportResult, str | None]:
    """Export a dataset folder to ``out`` (a folder, replaced atomically) as ``fmt``.

    With ``out`` ``None`` or ``"-"`` (CoNLL only, one ``split``) nothing is written
    and the text is returned instead.
    """
    from tradeie.data.dataset import load_hub_folder
    from tradeie.io.atomic import atomic_directory, write_bytes_atomic, write_text_atomic

    if fmt not in FORMATS:
        raise TradeieError(f"unknown export format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    ner = load_hub_folder(folder, "ner")
    splits = list(_splits(ner, split))
    to_stdout = out in (None, "-")
    if to_stdout and (fmt != "conll" or len(splits) != 1):
        raise TradeieError(
            f"--out -: standard output takes one CoNLL split, not {fmt} {'/'.join(splits)}",
            hint="add --format conll --split test, or give a folder",
        )
    result = ExportResult(str(out), fmt)
    if to_stdout:
        result.files["-"] = _counts(ner[splits[0]])
        return result, conll_text(ner[splits[0]])
    with atomic_directory(out) as tmp:
        if fmt == "conll":
            for s in splits:
                write_text_atomic(tmp / FILE_NAMES["conll"][s], conll_text(ner[s]))
                result.files[FILE_NAMES["conll"][s]] = _counts(ner[s])
        else:
            import spacy
            from spacy.tokens import DocBin

            documents = load_hub_folder(folder, "documents")
            vocab = spacy.blank("en").vocab
            for s in splits:
                docs = spacy_docs(ner[s], documents[s], vocab, s)
                bin_ = DocBin(store_user_data=True, docs=docs)
                write_bytes_atomic(tmp / FILE_NAMES["spacy"][s], bin_.to_bytes())
                result.files[FILE_NAMES["spacy"][s]] = _counts(ner[s])
            write_text_atomic(tmp / "config.cfg", spacy_config())
    return result, None


def read_spacy_relations(doc) -> list[tuple[Any, str, Any]]:
    """``(head span, label, tail span)`` triples of an exported ``Doc`` (the documented layout)."""
    return [(doc.ents[r["head"]], r["label"], doc.ents[r["tail"]]) for r in doc.user_data.get("relations", [])]
