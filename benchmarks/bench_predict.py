"""Prediction throughput: tradeie against ``transformers.pipeline("token-classification")``.

Same fine-tuned NER model, same synthetic documents (corpus paragraphs
recombined, 1 to 12 per document), CPU, 2 threads, all in one process:

* baseline: ``pipeline("token-classification", aggregation_strategy="first")``
  over each document's sentences (batch_size as given);
* tradeie NER as saved (constrained decoding, gazetteer ensemble) and with
  plain argmax decoding and no gazetteer (what the pipeline does), whose
  entities are compared with the pipeline's (agreement = shared / union of
  (start, end, label) triples);
* tradeie NER + RE end to end, when the run has ``re/``;
* the other NER systems (``rules``, ``crf``, ``crf-rules``, trained here on
  the dataset's train split) with the spaCy pipeline's own time
  (``tradeie.text.linguistic.parse_sentences`` on the same sentences) as a share;
* optionally (``--int8``) dynamic int8 quantisation of the linear layers,
  with the test-split entity F1 before and after.

    python benchmarks/bench_predict.py --model training/runs/demo [--docs 1000] [--systems rules,crf,crf-rules]
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="training/runs/demo", help="run folder with ner/ (and re/)")
    parser.add_argument("--corpus", default="corpus/documents.jsonl")
    parser.add_argument("--dataset", default="dist/dataset", help="for training the other systems and --int8 F1")
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--systems", default="rules,crf,crf-rules", help="other NER systems ('' for none)")
    parser.add_argument("--int8", action="store_true", help="also time dynamic int8 quantisation")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    from tradeie import Pipeline
    from tradeie.corpus import document_tokens, load_corpus

    ner_dir = Path(args.model) / "ner"
    if not (ner_dir / "config.json").is_file():
        print(
            f"no NER model at {ner_dir}: run `make demo` or `tradeie train ner --output {args.model}`", file=sys.stderr
        )
        return 2
    docs = synthetic_documents(load_corpus(args.corpus), args.docs)
    n_tokens = sum(len(t) for d in docs for t in document_tokens(d))
    print(f"machine: {machine()}")
    print(
        f"documents: {len(docs)}, tokens: {n_tokens:,}, characters: {sum(len(d.text) for d in docs):,}, "
        f"model: {ner_dir}"
    )
    rows = []

    def record(name, seconds, ents=None, note=""):
        agree = "" if ents is None or base_ents is None else f"{agreement(ents, base_ents):.3f}"
        rows.append([name, seconds, len(docs) / seconds, n_tokens / seconds, agree, note])

    base_ents = None
    run_pipe = pipeline_entities(ner_dir, docs[:4], args.batch_size)
    run_pipe()  # warm-up
    run_pipe = pipeline_entities(ner_dir, docs, args.batch_size)
    start = time.perf_counter()
    base_ents = run_pipe()
    t_pipe = time.perf_counter() - start
    record(f"baseline: transformers pipeline (first, batch {args.batch_size})", t_pipe, base_ents, "1.00x")

    full = Pipeline.load(args.model, device="cpu", batch_size=args.batch_size)
    ner = full.ner
    ner.predict(docs[:4])
    plain = copy.copy(ner)
    plain.settings = copy.copy(ner.settings)
    plain.settings.constrained_decoding = False
    plain.gazetteer = None
    timings = {}
    for name, tagger in (("tradeie NER, argmax, no gazetteer", plain), ("tradeie NER as saved", ner)):
        start = time.perf_counter()
        preds = tagger.predict(docs)
        timings[name] = time.perf_counter() - start
        record(name, timings[name], entity_set(preds), f"{t_pipe / timings[name]:.2f}x")
    if full.relation is not None:
        start = time.perf_counter()
        full.predict_documents(docs)
        t = time.perf_counter() - start
        record("tradeie NER + RE end to end", t, None, f"{t_pipe / t:.2f}x")

    if args.systems:
        from tradeie.data.dataset import documents_from_dataset, load_hub_folder
        from tradeie.text.linguistic import parse_sentences
        from tradeie.systems.base import system_class

        train = documents_from_dataset(load_hub_folder(args.dataset, "documents")["train"])
        sentences = [t for d in docs for t in document_tokens(d) if t]
        start = time.perf_counter()
        parse_sentences(sentences)
        t_spacy = time.perf_counter() - start
        for name in [s for s in args.systems.split(",") if s]:
            system = system_class(name)().fit(train)
            system.predict(docs[:4])
            start = time.perf_counter()
            preds = system.predict(docs)
            t = time.perf_counter() - start
            record(
                f"system {name}",
                t,
                entity_set(preds),
                f"{t_pipe / t:.2f}x; spaCy parse {min(t_spacy / t, 1):.0%} of it",
            )
        rows.append(
            ["spaCy pipeline alone (parse_sentences)", t_spacy, len(docs) / t_spacy, n_tokens / t_spacy, "", ""]
        )

    if args.int8:
        import torch

        q = copy.copy(ner)
        q.model = torch.ao.quantization.quantize_dynamic(ner.model, {torch.nn.Linear}, dtype=torch.qint8)
        q.predict(docs[:4])
        start = time.perf_counter()
        preds = q.predict(docs)
        t = time.perf_counter() - start
        f1 = {}
        from tradeie.data.dataset import documents_from_dataset, load_hub_folder

        test = documents_from_dataset(load_hub_folder(args.dataset, "documents")["test"])
        gold = entity_set(test)
        for label, tagger in (("fp32", ner), ("int8", q)):
            pred = entity_set(tagger.predict([d.with_annotations((), ()) for d in test]))
            f1[label] = 2 * len(gold & pred) / (len(gold) + len(pred)) if gold or pred else 1.0
        record(
            "tradeie NER as saved, dynamic int8",
            t,
            entity_set(preds),
            f"{t_pipe / t:.2f}x; test strict span F1 {f1['fp32']:.3f} -> {f1['int8']:.3f}",
        )

    print(table(["system", "seconds", "docs/s", "tokens/s", "entity agreement with baseline", "speed-up / note"], rows))
    best = timings["tradeie NER, argmax, no gazetteer"]
    print(
        f"tradeie NER (argmax) vs transformers pipeline: {t_pipe / best:.2f}x the throughput, "
        f"entity agreement {agreement(entity_set(plain.predict(docs)), base_ents):.3f}; "
        f"peak RSS {peak_rss_mib():.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
