"""Corpus + dataset build scaling against a bare pass of the same tokenizer over the same texts.

For each size N, in a fresh folder, every phase runs in its own subprocess (so
its peak RSS is its own):

1. ``generate`` (not timed): N synthetic documents from the gold sentences
   (non-entity words partly replaced so texts are new; every 50th document a
   near-copy of the one before, to exercise near-duplicate grouping), written
   one at a time as ``seeds/*.txt`` plus their entity spans (``spans.jsonl``);
2. ``tokenize``, the lower bound: ``tradeie.text.tokens.tokenize`` over every
   text (only the tokenizer calls are timed; files are read one at a time);
3. ``corpus``: ``build_corpus`` (what ``tradeie corpus build`` runs);
4. ``annotate`` (not timed): the corpus documents with their spans, streamed to
   a Documents JSONL (the role the gold annotations play);
5. ``dataset``: ``build_dataset`` + ``write_hub_folder`` (what ``tradeie
   dataset build`` runs after loading the gold) over that file as a
   :class:`tradeie.corpus.DocumentsFile` (read from disk, never held whole),
   with one process and, with ``--num-proc 2``, again with two workers.

Nothing holds the whole corpus: the harness streams too, so peak RSS is the
build's. ``--profile N`` instead prints cProfile's top functions of the corpus
and dataset builds at N documents.

    python benchmarks/bench_build.py --sizes 1000,10000 [--num-proc 2] [--json out.json]
    python benchmarks/bench_build.py --profile 1000
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import AnonPeak, machine, peak_rss_mib, set_threads, table  # noqa: E402

PHASES = ("generate", "tokenize", "corpus", "annotate", "dataset")
#: With ``--reuse``: share of the words outside entities replaced in each reused gold sentence.
REPLACED = 0.3


def sentence_pool(gold: str, corpus: str) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(sentence text, entity spans relative to it) for every gold sentence."""
    from tradeie.annotations.gold import load_gold

    pool = []
    for doc in load_gold(gold, corpus):
        for s, e in doc.meta["sentences"]:
            ents = [(x.start - s, x.end - s, x.label) for x in doc.entities if s <= x.start and x.end <= e]
            pool.append((doc.text[s:e], ents))
    return pool


def mutate(text: str, ents, vocab: dict[str, list[str]], rng: random.Random, reuse: bool) -> tuple[str, list]:
    """A new sentence from a gold one; entity offsets follow the replaced words.

    ``reuse``: 30% of the words outside entities replaced by lower-case vocabulary words
    (the sentence and its entities stay recognisable). Otherwise every word, inside
    entities too, is replaced by a vocabulary word of the same case: the shape of the
    text and of its entities is kept, but no word sequence is reused.
    """
    out, replaced, pos = [], [], 0
    bounds = sorted(ents)
    for m in re.finditer(r"[A-Za-z]+", text):
        if any(m.start() < x < m.end() for a, b, _ in bounds for x in (a, b)):
            continue  # an entity boundary inside the word: keep it
        word = m.group()
        if reuse:
            if any(a <= m.start() < b for a, b, _ in bounds) or rng.random() > REPLACED:
                continue
            case = "lower"
        else:
            case = "upper" if word.isupper() and len(word) > 1 else "title" if word[0].isupper() else "lower"
        out.append(text[pos : m.start()])
        new = rng.choice(vocab[case])
        out.append(new)
        replaced.append((m.end(), len(new) - len(word)))
        pos = m.end()
    out.append(text[pos:])

    def moved(x: int) -> int:
        return x + sum(d for end, d in replaced if end <= x)

    return "".join(out), [(moved(a), moved(b), label) for a, b, label in bounds]


def synthesise(n: int, pool, seed: int = 0, reuse: bool = False):
    """Yield ``n`` (id, text, entity spans) documents of 3 to 8 gold-derived sentences, one at a time;
    every 50th is a near-copy of the one before (one sentence changed)."""
    rng = random.Random(seed)
    words = sorted({w for text, _ in pool for w in re.findall(r"[A-Za-z]+", text)})
    vocab = {
        "lower": [w for w in words if w.islower()],
        "title": [w for w in words if w[0].isupper() and not w.isupper()],
        "upper": [w for w in words if w.isupper() and len(w) > 1],
    }
    prev: list = []
    for i in range(n):
        if i % 50 == 49:  # a near-copy of the previous document: one sentence changed
            sents = list(prev)
            sents[-1] = mutate(*rng.choice(pool), vocab, rng, reuse)
        else:
            sents = [mutate(*rng.choice(pool), vocab, rng, reuse) for _ in range(rng.randint(3, 8))]
        text, ents = "", []
        for k, (s, e) in enumerate(sents):
            sep = "" if k == 0 else ("\n\n" if k % 3 == 0 else " ")
            pos = len(text) + len(sep)
            text += sep + s
            ents += [(a + pos, b + pos, label) for a, b, label in e]
        prev = sents
        yield f"d{i:07d}", text, ents


# ------------------------------------------------------------------ phases (each in its own process)


def phase_generate(work: Path, n: int, gold: str, corpus: str, reuse: bool = False) -> dict:
    seeds = work / "seeds"
    seeds.mkdir(parents=True)
    with (work / "spans.jsonl").open("w", encoding="utf-8") as spans:
        for doc_id, text, ents in synthesise(n, sentence_pool(gold, corpus), reuse=reuse):
            (seeds / f"{doc_id}.txt").write_text(text, encoding="utf-8")
            spans.write(json.dumps([doc_id, ents]) + "\n")
    return {}


def phase_tokenize(work: Path, n: int) -> dict:
    from tradeie.text.tokens import tokenize

    tokenize("warm up")
    seconds, tokens = 0.0, 0
    for path in sorted((work / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        start = time.perf_counter()
        tokens += len(tokenize(text))
        seconds += time.perf_counter() - start
    return {"t_tokenize": seconds, "tokens": tokens}


def warm_up(dataset: bool = False) -> float:
    """Import the libraries a build loads lazily (spaCy's blank pipeline, datasketch; datasets and
    transformers for the dataset): a fixed start-up cost, reported apart from the build time."""
    start = time.perf_counter()
    import datasketch  # noqa: F401

    from tradeie.text.tokens import tokenize

    tokenize("warm up")
    if dataset:
        import datasets  # noqa: F401
        from transformers import AutoTokenizer  # noqa: F401
    return time.perf_counter() - start


def phase_corpus(work: Path, n: int) -> dict:
    from tradeie.corpus import build_corpus

    startup = warm_up()
    anon = AnonPeak()
    start = time.perf_counter()
    build_corpus(work / "seeds", work / "documents.jsonl")
    seconds = time.perf_counter() - start
    return {"t_corpus": seconds, "startup_corpus": startup, "anon_corpus": anon.stop()}


def phase_annotate(work: Path, n: int) -> dict:
    """The corpus documents with their spans (those inside a sentence: a new boundary may cut one)."""
    from tradeie.corpus import DocumentsFile
    from tradeie.document import Document, Entity

    groups: dict[str, int] = {}
    similar = 0
    with (work / "spans.jsonl").open(encoding="utf-8") as spans, (work / "annotated.jsonl").open("w") as out:
        by_id = (json.loads(line) for line in spans)
        for doc in DocumentsFile(work / "documents.jsonl"):
            doc_id, ents = next(by_id)
            assert doc_id == doc.id, (doc_id, doc.id)
            sents = doc.meta["sentences"]
            entities = tuple(
                Entity(a, b, label, f"T{k}", doc.text[a:b])
                for k, (a, b, label) in enumerate(ents)
                if any(s <= a and b <= e for s, e in sents)
            )
            row = Document(doc.id, doc.text, entities, (), doc.meta).to_dict()
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            group = doc.meta["near_duplicate_group"]
            groups[group] = groups.get(group, 0) + 1
            similar += len(doc.meta["similar"])
    return {
        "multi_groups": sum(1 for v in groups.values() if v > 1),
        "expected_multi": n // 50,
        "similar_pairs": similar // 2,
    }


def phase_dataset(work: Path, n: int, num_proc: int) -> dict:
    import resource

    from tradeie.corpus import DocumentsFile
    from tradeie.data.dataset import build_dataset, write_hub_folder

    out = work / f"dataset-{num_proc}"
    startup = warm_up(dataset=True)
    anon = AnonPeak()
    start = time.perf_counter()
    docs = DocumentsFile(work / "annotated.jsonl")
    built = build_dataset(docs, num_proc=num_proc)
    write_hub_folder(built, docs, out, guidelines=None)
    seconds = time.perf_counter() - start
    anon_peak = anon.stop()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    shutil.rmtree(out, ignore_errors=True)
    return {
        f"t_dataset_{num_proc}": seconds,
        f"rss_dataset_{num_proc}": peak_rss_mib(),
        f"rss_workers_{num_proc}": children,
        f"anon_dataset_{num_proc}": anon_peak,
        "startup_dataset": startup,
    }


def run_phase(argv: list[str]) -> dict:
    """Run ``bench_build.py --phase ...`` in a fresh process; its JSON result plus its peak RSS."""
    proc = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"phase {' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(n: int, num_proc: int, gold: str, corpus: str, reuse: bool = False) -> dict:
    import os

    with tempfile.TemporaryDirectory(prefix="tradeie-bench-") as tmp:
        common = ["--n", str(n), "--workdir", tmp, "--gold", gold, "--corpus", corpus]
        result = {"n": n, "num_proc": num_proc, "load": os.getloadavg()[0], "reuse": reuse}
        for phase in PHASES[:-1]:
            got = run_phase(["--phase", phase, *common, *(["--reuse"] if reuse and phase == "generate" else [])])
            if phase in ("tokenize", "corpus"):
                got[f"rss_{phase}"] = got.pop("peak_rss_mib")
            else:
                got.pop("peak_rss_mib")
            result.update(got)
        for procs in sorted({1, num_proc}):
            got = run_phase(["--phase", "dataset", "--num-proc", str(procs), *common])
            got.pop("peak_rss_mib")
            result.update(got)
        result["load_end"] = os.getloadavg()[0]
    return result


def profile(n: int, gold: str, corpus: str, top: int = 25, reuse: bool = False) -> None:
    import cProfile
    import io
    import pstats

    from tradeie.corpus import DocumentsFile, build_corpus
    from tradeie.data.dataset import build_dataset, write_hub_folder

    with tempfile.TemporaryDirectory(prefix="tradeie-profile-") as tmp:
        work = Path(tmp)
        phase_generate(work, n, gold, corpus, reuse)
        warm_up(dataset=True)
        prof = cProfile.Profile()
        prof.enable()
        build_corpus(work / "seeds", work / "documents.jsonl")
        prof.disable()
        phase_annotate(work, n)
        prof_ds = cProfile.Profile()
        prof_ds.enable()
        docs = DocumentsFile(work / "annotated.jsonl")
        write_hub_folder(build_dataset(docs), docs, work / "dataset", guidelines=None)
        prof_ds.disable()
        for name, p in (("corpus build", prof), ("dataset build", prof_ds)):
            out = io.StringIO()
            pstats.Stats(p, stream=out).sort_stats("cumulative").print_stats(top)
            print(f"== cProfile: {name}, {n} documents\n{out.getvalue()}")


def report(results: list[dict], num_proc: int) -> str:
    """The tables and ratios of :func:`measure` results (also for results read back with ``--report``)."""
    time_rows, memory_rows = [], []
    for r in results:
        total = r["t_corpus"] + r["t_dataset_1"]
        time_rows.append(
            [
                r["n"],
                r["tokens"],
                r["t_tokenize"],
                r["t_corpus"],
                r["t_dataset_1"],
                r["n"] / total,
                f"{total / r['t_tokenize']:.1f}x",
                f"{r['t_dataset_1'] / r[f't_dataset_{num_proc}']:.2f}x" if num_proc > 1 else "-",
                f"{r['startup_corpus']:.1f} + {r['startup_dataset']:.1f}",
                f"{r['multi_groups']}/{r['expected_multi']}",
                r["similar_pairs"],
                f"{r['load']:.1f}-{r['load_end']:.1f}",
            ]
        )
        memory_rows.append(
            [
                r["n"],
                r["rss_tokenize"],
                r["rss_corpus"],
                r["anon_corpus"],
                r["rss_dataset_1"],
                r["anon_dataset_1"],
                f"{r.get(f'rss_dataset_{num_proc}', 0):.0f} + {r.get(f'rss_workers_{num_proc}', 0):.0f}",
            ]
        )
    lines = [
        table(
            [
                "docs",
                "tokens",
                "bare tokenize s",
                "corpus build s",
                "dataset build s",
                "docs/s (corpus + dataset)",
                "(corpus + dataset) / bare tokenize",
                f"dataset speed-up, num_proc={num_proc}",
                "start-up s (imports, not counted)",
                "near-dup groups found/planted",
                "similar pairs recorded",
                "load avg",
            ],
            time_rows,
        ),
        "",
        table(
            [
                "docs",
                "peak RSS MiB: tokenize pass",
                "corpus build",
                "(anonymous)",
                "dataset build",
                "(anonymous)",
                f"dataset num_proc={num_proc}: parent + largest worker",
            ],
            memory_rows,
        ),
    ]
    for a, b in zip(results, results[1:]):
        ta, tb = a["t_corpus"] + a["t_dataset_1"], b["t_corpus"] + b["t_dataset_1"]
        pa, pb = max(a["rss_corpus"], a["rss_dataset_1"]), max(b["rss_corpus"], b["rss_dataset_1"])
        qa, qb = max(a["anon_corpus"], a["anon_dataset_1"]), max(b["anon_corpus"], b["anon_dataset_1"])
        lines.append(
            f"{b['n']}/{a['n']} docs: time ratio {tb / ta:.2f}x (linear: {b['n'] / a['n']:.0f}x), "
            f"peak RSS ratio {pb / pa:.2f}x (anonymous {qb / qa:.2f}x)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated document counts")
    parser.add_argument("--num-proc", type=int, default=2, help="worker processes for the second dataset build")
    parser.add_argument("--gold", default="annotations/gold")
    parser.add_argument("--corpus", default="corpus/documents.jsonl")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    parser.add_argument("--report", default=None, metavar="JSON", help="print the tables of a --json file and exit")
    parser.add_argument("--profile", type=int, default=None, metavar="N", help="cProfile the builds at N documents")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse gold sentences with 30%% of their other words replaced (texts overlap: many near-duplicate "
        "candidates); default: every word replaced by one of the same case",
    )
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    set_threads(2)
    if args.phase:
        import logging

        logging.disable(logging.WARNING)  # the synthetic splits lack relation labels: one warning per split
        work = Path(args.workdir)
        if args.phase == "generate":
            got = phase_generate(work, args.n, args.gold, args.corpus, args.reuse)
        elif args.phase == "dataset":
            got = phase_dataset(work, args.n, args.num_proc)
        else:
            got = globals()[f"phase_{args.phase}"](work, args.n)
        print(json.dumps({**got, "peak_rss_mib": peak_rss_mib()}))
        return 0
    if args.report:
        print(report(json.loads(Path(args.report).read_text()), args.num_proc))
        return 0
    if args.profile:
        profile(args.profile, args.gold, args.corpus, reuse=args.reuse)
        return 0
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        results.append(measure(n, args.num_proc, args.gold, args.corpus, args.reuse))
        print(f"{n} documents: {json.dumps(results[-1])}", file=sys.stderr, flush=True)
    print(f"machine: {machine()}")
    print(report(results, args.num_proc))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
