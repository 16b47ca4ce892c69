"""Inference throughput of ``tradeie.Pipeline``: batched + length-sorted vs one document at a time.

Both variants run in the same process on the same documents and model, so the
ratio is meaningful on any machine. Prints documents/s, characters/s, the
speed-up and the peak resident memory.

    python benchmarks/bench_predict.py --model training/runs/demo [--docs 64] [--device cpu]
"""
from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

from tradeie import Pipeline
from tradeie.corpus import load_corpus
from tradeie.document import Document


def synthetic_documents(corpus: list[Document], n: int, seed: int = 0) -> list[Document]:
    """``n`` texts of varied length (1 to 12 corpus paragraphs each), like a news feed."""
    rng = random.Random(seed)
    paragraphs = [doc.text[s:e] for doc in corpus for s, e in doc.meta["paragraphs"]]
    return [Document(id=f"bench-{i}", text="\n\n".join(rng.choices(paragraphs, k=rng.randint(1, 12))))
            for i in range(n)]


def timed(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="training/runs/demo", help="run folder with ner/ (and re/)")
    parser.add_argument("--corpus", default="corpus/documents.jsonl")
    parser.add_argument("--docs", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: auto)")
    args = parser.parse_args(argv)
    if not Path(args.model).is_dir():
        print(f"no model at {args.model}: run `make demo` first", file=sys.stderr)
        return 2
    docs = synthetic_documents(load_corpus(args.corpus), args.docs)
    chars = sum(len(d.text) for d in docs)
    batched = Pipeline.load(args.model, device=args.device, batch_size=args.batch_size)
    single = Pipeline.load(args.model, device=args.device, batch_size=1)
    batched.predict_documents(docs[:2])  # warm-up
    t_batched = timed(lambda: batched.predict_documents(docs), args.repeats)
    t_single = timed(lambda: [single.predict_documents([d]) for d in docs], args.repeats)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"documents: {len(docs)}, characters: {chars}, model: {args.model}")
    print(f"{'variant':<34}{'seconds':>9}{'docs/s':>9}{'chars/s':>11}")
    for name, seconds in ((f"batched (batch_size={args.batch_size}), sorted", t_batched),
                          ("baseline: one document at a time", t_single)):
        print(f"{name:<34}{seconds:>9.2f}{len(docs) / seconds:>9.1f}{chars / seconds:>11.0f}")
    print(f"speed-up over baseline: {t_single / t_batched:.2f}x; peak RSS {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
