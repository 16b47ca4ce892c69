"""Prediction throughput: tradeie against ``transformers.pipeline("token-classification")``.

Same fine-tuned NER model, same synthetic documents (corpus paragraphs
recombined, 1 to 12 per document), CPU, ``--threads`` torch threads, one process:

* baseline: ``pipeline("token-classification", aggregation_strategy="first")``
  over each document's sentences (``--batch-size``), entities as character spans
  of the document;
* tradeie NER with plain argmax decoding and no gazetteer (what the pipeline
  does) and as saved (strict IOB2 Viterbi, gazetteer ensemble);
* ``tradeie predict``'s NER + RE end to end (``Pipeline.predict_documents``), with
  the run's ``re/`` or, if it has none, ``--re`` (default: the demo run's
  relation system);
* optionally (``--int8``) dynamic int8 quantisation of the linear layers, with the
  test-split strict span F1 before and after;
* the other NER systems (``--systems``, trained here on the dataset's train
  split) and the spaCy pipeline's own time (``parse_sentences`` on the same
  sentences) as a share of theirs.

Entity agreement with the baseline is shared / union of (document, start, end,
label). It is reported over all sentences and over the sentences where both
sides see the same words: the pipeline's "first" strategy labels each word of
its tokenizer's pre-tokenisation (whitespace and every punctuation character
split; ``##`` pieces joined), tradeie labels each spaCy token (``U.S.``,
``1,000`` and ``2.5`` are one token, ``can't`` is two), so where the two word
lists differ the two label different units by construction. The word-unit
differences are counted by kind.

The pipeline and tradeie's argmax path are timed alternately ``--repeats``
times (best wall time kept); CPU seconds of this process are shown too, and
the load average before and after each measurement, since other jobs on the
machine change wall times.

    python benchmarks/bench_predict.py --model training/runs/demo [--docs 1000] [--systems rules,crf,crf-rules]
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, peak_rss_mib, set_threads, table  # noqa: E402


def synthetic_documents(corpus, n: int, seed: int = 0):
    """``n`` texts of varied length (1 to 12 corpus paragraphs each), like a news feed."""
    from tradeie.corpus import segment
    from tradeie.document import Document

    rng = random.Random(seed)
    paragraphs = [doc.text[s:e] for doc in corpus for s, e in doc.meta["paragraphs"]]
    docs = []
    for i in range(n):
        text = "\n\n".join(rng.choices(paragraphs, k=rng.randint(1, 12)))
        docs.append(Document(id=f"bench-{i}", text=text, meta={"sentences": [list(s) for s in segment(text)]}))
    return docs


def entity_set(docs) -> set[tuple[str, int, int, str]]:
    return {(d.id, e.start, e.end, e.label) for d in docs for e in d.entities}


def pipeline_entities(ner_dir: Path, docs, batch_size: int):
    """A callable running the transformers pipeline over every sentence; returns entity triples."""
    from transformers import pipeline

    pipe = pipeline("token-classification", model=str(ner_dir), aggregation_strategy="first", device="cpu")
    units = [(d.id, s, d.text[s:e]) for d in docs for s, e in d.meta["sentences"]]

    def run():
        out = set()
        results = pipe([u[2] for u in units], batch_size=batch_size)
        for (doc_id, offset, _), ents in zip(units, results):
            out.update((doc_id, offset + int(e["start"]), offset + int(e["end"]), e["entity_group"]) for e in ents)
        return out

    return run


def agreement(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def pipeline_words(tokenizer, text: str) -> list[tuple[int, int]]:
    """The words the pipeline's "first" strategy labels: its rule ``is_subword = len(token) !=
    len(text[start:end])`` (a ``##`` piece) joins a sub-word to the word before; [UNK] starts one."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    words: list[tuple[int, int]] = []
    for token, (s, e), token_id in zip(enc.tokens(), enc["offset_mapping"], enc["input_ids"]):
        subword = len(token) != e - s and token_id != tokenizer.unk_token_id
        if subword and words:
            words[-1] = (words[-1][0], e)
        else:
            words.append((s, e))
    return words


def word_units(docs, tokenizer, window: int):
    """Sentences (doc id, start, end) where tradeie's tokens and the pipeline's words coincide (and the
    sentence fits one tradeie window), and a Counter of the kinds of difference elsewhere."""
    from tradeie.corpus import document_tokens

    same, kinds, examples = set(), Counter(), Counter()
    for doc in docs:
        for (s, e), toks in zip(doc.meta["sentences"], document_tokens(doc)):
            ours = [(t.start - s, t.end - s) for t in toks]
            theirs = pipeline_words(tokenizer, doc.text[s:e])
            n_sub = len(tokenizer(doc.text[s:e], add_special_tokens=False)["input_ids"])
            if ours == theirs and n_sub <= window:
                same.add((doc.id, s, e))
                continue
            if n_sub > window:
                kinds["longer than one tradeie window"] += 1
            bounds_ours = {x for span in ours for x in span}
            bounds_theirs = {x for span in theirs for x in span}
            for a, b in ours:  # a spaCy token holding several pipeline words (U.S., 1,000, 2.5)
                if any(a < x < b for x in bounds_theirs):
                    kinds["spaCy token = several pipeline words"] += 1
                    examples[doc.text[s + a : s + b]] += 1
            for a, b in theirs:  # a pipeline word holding several spaCy tokens (can't -> ca n't)
                if any(a < x < b for x in bounds_ours):
                    kinds["pipeline word = several spaCy tokens"] += 1
                    examples[doc.text[s + a : s + b]] += 1
    return same, kinds, examples


def within(ents: set, sentences: set) -> set:
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for doc_id, s, e in sentences:
        by_doc.setdefault(doc_id, []).append((s, e))
    return {x for x in ents if any(s <= x[1] and x[2] <= e for s, e in by_doc.get(x[0], ()))}


class Clock:
    """Wall and CPU seconds of one measurement, with the load average before and after."""

    def __init__(self) -> None:
        self.load0 = os.getloadavg()[0]
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def stop(self) -> Clock:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self.load1 = os.getloadavg()[0]
        return self

    @property
    def load(self) -> str:
        return f"{self.load0:.1f}-{self.load1:.1f}"


def timed(fn, repeats: int = 1):
    """(best Clock, result) over ``repeats`` calls."""
    best, result = None, None
    for _ in range(repeats):
        clock = Clock()
        result = fn()
        clock.stop()
        best = clock if best is None or clock.wall < best.wall else best
    return best, result


def relation_run(model: Path, re_dir: Path | None) -> Path:
    """A run folder with the model's ner/ and a relation model: the run's own re/, else ``re_dir``."""
    if (model / "re").is_dir() or re_dir is None:
        return model
    import atexit
    import shutil

    tmp = Path(tempfile.mkdtemp(prefix="tradeie-bench-run-"))
    atexit.register(shutil.rmtree, tmp, True)
    (tmp / "ner").symlink_to((model / "ner").resolve())
    (tmp / "re").symlink_to(re_dir.resolve())
    return tmp


def strict_f1(gold: set, pred: set) -> float:
    return 2 * len(gold & pred) / (len(gold) + len(pred)) if gold or pred else 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="training/runs/demo", help="run folder with a transformer ner/ (and re/)")
    parser.add_argument("--re", default="training/runs/demo/re", help="relation model when the run has no re/")
    parser.add_argument("--corpus", default="corpus/documents.jsonl")
    parser.add_argument("--dataset", default="dist/dataset", help="for training the other systems and --int8 F1")
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="alternate pipeline / tradeie runs, keep the best")
    parser.add_argument("--systems", default="rules,crf,crf-rules", help="other NER systems ('' for none)")
    parser.add_argument("--int8", action="store_true", help="also time dynamic int8 quantisation")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    import logging

    logging.disable(logging.WARNING)
    from tradeie import Pipeline
    from tradeie.corpus import document_tokens, load_corpus

    model = Path(args.model)
    ner_dir = model / "ner"
    if not (ner_dir / "config.json").is_file():
        print(
            f"no transformer NER model at {ner_dir}: run `make train-transformer` or "
            f"`tradeie train ner --output {args.model}`",
            file=sys.stderr,
        )
        return 2
    docs = synthetic_documents(load_corpus(args.corpus), args.docs)
    n_tokens = sum(len(t) for d in docs for t in document_tokens(d))
    n_sentences = sum(len(d.meta["sentences"]) for d in docs)
    print(f"machine: {machine()}")
    print(
        f"documents: {len(docs)}, sentences: {n_sentences}, tokens: {n_tokens:,}, "
        f"characters: {sum(len(d.text) for d in docs):,}, model: {ner_dir}"
    )
    rows = []

    def record(name, clock, ents=None, note="", base=None):
        agree = same_agree = ""
        if ents is not None and base is not None:
            agree = f"{agreement(ents, base):.3f}"
            same_agree = f"{agreement(within(ents, same), within(base, same)):.3f}"
        speed = f"{t_pipe / clock.wall:.2f}x"
        rows.append(
            [
                name,
                clock.wall,
                clock.cpu,
                len(docs) / clock.wall,
                n_tokens / clock.wall,
                agree,
                same_agree,
                speed,
                clock.load,
                note,
            ]
        )

    re_dir = Path(args.re) if args.re and Path(args.re).is_dir() else None
    full = Pipeline.load(relation_run(model, re_dir), device="cpu", batch_size=args.batch_size)
    ner = full.ner
    plain = copy.copy(ner)
    plain.settings = copy.copy(ner.settings)
    plain.settings.constrained_decoding = False
    plain.gazetteer = None
    same, kinds, examples = word_units(docs, ner.tokenizer, ner.settings.max_length - 2)

    pipeline_entities(ner_dir, docs[:4], args.batch_size)()  # warm-up
    plain.predict(docs[:4])
    run_pipe = pipeline_entities(ner_dir, docs, args.batch_size)
    best_pipe = best_plain = None
    for _ in range(max(args.repeats, 1)):  # alternate, so that load changes hit both
        clock, base_ents = timed(run_pipe)
        best_pipe = clock if best_pipe is None or clock.wall < best_pipe.wall else best_pipe
        clock, plain_preds = timed(lambda: plain.predict(docs))
        best_plain = clock if best_plain is None or clock.wall < best_plain.wall else best_plain
    t_pipe = best_pipe.wall
    record(f"baseline: transformers pipeline (first, batch {args.batch_size})", best_pipe, base_ents, "", base_ents)
    plain_ents = entity_set(plain_preds)
    record("tradeie NER, argmax, no gazetteer", best_plain, plain_ents, "same decoding as the pipeline", base_ents)
    clock, preds = timed(lambda: ner.predict(docs))
    record("tradeie predict, NER only (as saved: Viterbi + gazetteer)", clock, entity_set(preds), "", base_ents)
    saved_ents = entity_set(preds)
    if full.relation is not None:
        clock, out = timed(lambda: full.predict_documents(docs))
        n_rel = sum(len(d.relations) for d in out)
        record(
            "tradeie predict: NER + RE end to end",
            clock,
            None,
            f"relations: {type(full.relation).__name__} ({n_rel:,} found)",
        )

    if args.int8:
        import torch

        from tradeie.data.dataset import documents_from_dataset, load_hub_folder

        q = copy.copy(ner)
        q.model = torch.ao.quantization.quantize_dynamic(ner.model, {torch.nn.Linear}, dtype=torch.qint8)
        q.predict(docs[:4])
        clock, preds = timed(lambda: q.predict(docs))
        test = documents_from_dataset(load_hub_folder(args.dataset, "documents")["test"])
        gold = entity_set(test)
        bare = [d.with_annotations((), ()) for d in test]
        f1 = {label: strict_f1(gold, entity_set(t.predict(bare))) for label, t in (("fp32", ner), ("int8", q))}
        record(
            "tradeie NER as saved, dynamic int8",
            clock,
            entity_set(preds),
            f"agreement with fp32 as saved {agreement(entity_set(preds), saved_ents):.3f}; "
            f"test strict span F1 {f1['fp32']:.3f} -> {f1['int8']:.3f}",
            base_ents,
        )

    if args.systems:
        from tradeie.data.dataset import documents_from_dataset, load_hub_folder
        from tradeie.systems.base import system_class
        from tradeie.text.linguistic import parse_sentences

        train = documents_from_dataset(load_hub_folder(args.dataset, "documents")["train"])
        sentences = [t for d in docs for t in document_tokens(d) if t]
        parse_sentences(sentences[:8])
        t_spacy, _ = timed(lambda: parse_sentences(sentences))
        for name in [s for s in args.systems.split(",") if s]:
            system = system_class(name)().fit(train)
            system.predict(docs[:4])
            clock, preds = timed(lambda: system.predict(docs))
            record(
                f"system {name}",
                clock,
                entity_set(preds),
                f"spaCy parse ~{min(t_spacy.wall / clock.wall, 1):.0%} of it",
                base_ents,
            )
        record("spaCy pipeline alone (parse_sentences)", t_spacy, None, "en_core_web_md on the same sentences")

    print(
        table(
            [
                "system",
                "seconds (best wall)",
                "CPU s",
                "docs/s",
                "tokens/s",
                "entity agreement with baseline",
                "agreement, same-word sentences",
                "throughput vs baseline",
                "load avg",
                "note",
            ],
            rows,
        )
    )
    base_same, plain_same = within(base_ents, same), within(plain_ents, same)
    print(
        f"same-word sentences: {len(same):,} of {n_sentences:,} ({len(same) / n_sentences:.0%}), holding "
        f"{len(base_same):,} of {len(base_ents):,} baseline entities; there tradeie (argmax) and the pipeline "
        f"agree on {agreement(plain_same, base_same):.4f} "
        f"({len(plain_same ^ base_same)} entities differ)"
    )
    print("word-unit differences elsewhere: " + ", ".join(f"{k}: {v}" for k, v in kinds.most_common()))
    print("most frequent differing units: " + ", ".join(f"{w!r} x{c}" for w, c in examples.most_common(12)))
    print(
        f"tradeie NER (argmax) vs transformers pipeline: {t_pipe / best_plain.wall:.2f}x the throughput "
        f"(CPU time {best_pipe.cpu / best_plain.cpu:.2f}x); peak RSS {peak_rss_mib():.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
