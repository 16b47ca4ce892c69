"""Corpus + dataset build scaling against a bare pass of the same tokenizer over the same texts.

For each size N (one fresh subprocess per size, so peak RSS is per size) it
synthesises N annotated documents from the gold sentences (non-entity words
partly replaced so texts are new; every 50th document a near-copy of the one
before, to exercise near-duplicate grouping), writes them as ``.txt`` seeds,
then times (1) ``tradeie.text.tokens.tokenize`` over every text (the baseline),
(2) ``build_corpus`` and (3) ``build_dataset`` + ``write_hub_folder``, and with
``--num-proc 2`` the dataset build again with two worker processes.

    python benchmarks/bench_build.py --sizes 1000,10000 [--num-proc 2]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, peak_rss_mib, set_threads, table  # noqa: E402


def sentence_pool(gold: str, corpus: str) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(sentence text, entity spans relative to it) for every gold sentence."""
    from tradeie.annotations.gold import load_gold

    pool = []
    for doc in load_gold(gold, corpus):
        for s, e in doc.meta["sentences"]:
            ents = [(x.start - s, x.end - s, x.label) for x in doc.entities if s <= x.start and x.end <= e]
            pool.append((doc.text[s:e], ents))
    return pool


def mutate(text: str, ents, vocab: list[str], rng: random.Random) -> tuple[str, list]:
    """Replace ~30% of the words outside entities with vocabulary words; entity offsets follow."""
    import re

    out, new_ents, pos = [], [], 0
    bounds = sorted(ents)
    for m in re.finditer(r"[A-Za-z]+", text):
        inside = any(a <= m.start() < b for a, b, _ in bounds)
        if inside or rng.random() > 0.3:
            continue
        out.append(text[pos : m.start()])
        word = rng.choice(vocab)
        out.append(word)
        new_ents.append((m.start(), m.end(), len(word)))
        pos = m.end()
    out.append(text[pos:])
    moved = []
    for a, b, label in bounds:
        delta = sum(n - (e - s) for s, e, n in new_ents if e <= a)
        moved.append((a + delta, b + delta, label))
    return "".join(out), moved


def synthesise(n: int, pool, seed: int = 0):
    """``n`` (id, text, entity spans) documents of 3 to 8 gold-derived sentences."""
    rng = random.Random(seed)
    vocab = sorted({w for text, _ in pool for w in text.split() if w.isalpha() and w.islower()})
    docs = []
    for i in range(n):
        if i % 50 == 49:  # a near-copy of the previous document: one sentence changed
            prev_sents = list(docs[-1][3])
            prev_sents[-1] = mutate(*rng.choice(pool), vocab, rng)
            sents = prev_sents
        else:
            sents = [mutate(*rng.choice(pool), vocab, rng) for _ in range(rng.randint(3, 8))]
        text, ents, pos = "", [], 0
        for k, (s, e) in enumerate(sents):
            sep = "" if k == 0 else ("\n\n" if k % 3 == 0 else " ")
            pos = len(text) + len(sep)
            text += sep + s
            ents += [(a + pos, b + pos, label) for a, b, label in e]
        docs.append((f"d{i:07d}", text, ents, sents))
    return [(d, t, e) for d, t, e, _ in docs]


def run_one(n: int, num_proc: int, workdir: Path, gold: str, corpus: str) -> dict:
    set_threads(2)
    from tradeie.corpus import build_corpus, load_corpus
    from tradeie.data.dataset import build_dataset, write_hub_folder
    from tradeie.document import Document, Entity
    from tradeie.text.tokens import tokenize

    docs = synthesise(n, sentence_pool(gold, corpus))
    seeds = workdir / "seeds"
    seeds.mkdir(parents=True)
    for doc_id, text, _ in docs:
        (seeds / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    spans = {doc_id: ents for doc_id, _, ents in docs}
    texts = [text for _, text, _ in docs]
    del docs
    tokenize("warm up")
    rss_before = peak_rss_mib()
    start = time.perf_counter()
    n_tokens = sum(len(tokenize(t)) for t in texts)
    t_tok = time.perf_counter() - start
    del texts

    start = time.perf_counter()
    build_corpus(seeds, workdir / "documents.jsonl")
    t_corpus = time.perf_counter() - start

    def annotated():
        out = []
        for doc in load_corpus(workdir / "documents.jsonl"):
            sents = doc.meta["sentences"]
            ents = tuple(
                Entity(a, b, label, f"T{k}", doc.text[a:b])
                for k, (a, b, label) in enumerate(spans[doc.id])
                if any(s <= a and b <= e for s, e in sents)
            )  # drop spans a new boundary cut
            out.append(Document(doc.id, doc.text, ents, (), doc.meta))
        return out

    results = {}
    for procs in sorted({1, num_proc}):
        start = time.perf_counter()
        docs_in = annotated()
        built = build_dataset(docs_in, num_proc=procs)
        write_hub_folder(built, docs_in, workdir / f"dataset-{procs}", guidelines=None)
        results[procs] = time.perf_counter() - start
        del built, docs_in
    groups = {}
    for doc in load_corpus(workdir / "documents.jsonl"):
        groups.setdefault(doc.meta["near_duplicate_group"], 0)
        groups[doc.meta["near_duplicate_group"]] += 1
    return {
        "n": n,
        "tokens": n_tokens,
        "t_tokenize": t_tok,
        "t_corpus": t_corpus,
        "t_dataset": results[1],
        "t_dataset_np": results.get(num_proc, results[1]),
        "num_proc": num_proc,
        "peak_rss_mib": peak_rss_mib(),
        "rss_before_mib": rss_before,
        "multi_groups": sum(1 for v in groups.values() if v > 1),
        "expected_multi": n // 50,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated document counts")
    parser.add_argument("--num-proc", type=int, default=2, help="worker processes for the second dataset build")
    parser.add_argument("--gold", default="annotations/gold")
    parser.add_argument("--corpus", default="corpus/documents.jsonl")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.one is not None:
        with tempfile.TemporaryDirectory(prefix="tradeie-bench-") as tmp:
            print(json.dumps(run_one(args.one, args.num_proc, Path(tmp), args.gold, args.corpus)))
        return 0
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(n),
                "--num-proc",
                str(args.num_proc),
                "--gold",
                args.gold,
                "--corpus",
                args.corpus,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            print(proc.stderr[-3000:], file=sys.stderr)
            return proc.returncode
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    set_threads(2)
    print(f"machine: {machine()}")
    rows = []
    for r in results:
        total = r["t_corpus"] + r["t_dataset"]
        rows.append(
            [
                r["n"],
                r["tokens"],
                r["t_tokenize"],
                r["t_corpus"],
                r["t_dataset"],
                r["n"] / total,
                f"{total / r['t_tokenize']:.1f}x",
                f"{r['t_dataset'] / r['t_dataset_np']:.2f}x",
                r["peak_rss_mib"],
                f"{r['multi_groups']}/{r['expected_multi']}",
            ]
        )
    print(
        table(
            [
                "docs",
                "tokens",
                "bare tokenize s",
                "corpus build s",
                "dataset build s",
                "docs/s (build)",
                "build / bare tokenize",
                f"dataset speed-up num_proc={args.num_proc}",
                "peak RSS MiB",
                "near-dup groups found/planted",
            ],
            rows,
        )
    )
    for a, b in zip(results, results[1:]):
        ta, tb = a["t_corpus"] + a["t_dataset"], b["t_corpus"] + b["t_dataset"]
        print(
            f"{b['n']}/{a['n']} docs: time ratio {tb / ta:.2f}x (linear: {b['n'] / a['n']:.0f}x), "
            f"peak RSS ratio {b['peak_rss_mib'] / a['peak_rss_mib']:.2f}x"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
