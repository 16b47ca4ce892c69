"""Which low-resource options help? Leave-one-group-out cross-validation on real documents.

Each fold holds out one near-duplicate group, trains every variant (a set of
config overrides) for every seed on the other groups, and scores the held-out
real documents (never augmented text). Scores are pooled over folds (micro
P/R/F1 over all held-out mentions or relations), then mean and sd over seeds.

``python -m tradeie.training.ablation --out eval/ablation.json`` runs the
default study on ``annotations/gold``; it takes a while on CPU.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..document import Document
from .config import NERConfig, REConfig

log = logging.getLogger(__name__)

NER_VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "augment": {"augment": True},
    "class_weights": {"class_weights": True},
    "balanced_sampling": {"balanced_sampling": True},
}
#: Evaluated on the "base" models (no retraining): prediction-time options.
NER_DECODING_VARIANTS: dict[str, dict[str, Any]] = {
    "gazetteer_ensemble": {"gazetteer": True},
    "unconstrained_decoding": {"constrained": False},
}
RE_VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "all_negatives": {"negative_ratio": 0.0},
    "all_negatives_class_weights": {"negative_ratio": 0.0, "class_weights": True},
    "augment": {"augment": True},
}


def logo_folds(docs: Sequence[Document]) -> list[tuple[list[Document], list[Document]]]:
    """One fold per near-duplicate group: (training documents, held-out documents)."""
    from ..splits import group_kfold, groups_of

    by_id = {d.id: d for d in docs}
    folds = group_kfold(docs, len(groups_of(docs)))
    return [([by_id[i] for i in train], [by_id[i] for i in test]) for train, test in folds]


def _summary(per_seed: list[dict]) -> dict[str, Any]:
    f1s = [s["f1"] for s in per_seed]
    return {
        "f1_mean": statistics.fmean(f1s), "f1_sd": statistics.stdev(f1s) if len(f1s) > 1 else 0.0,
        "f1_best": max(f1s),
        "precision_mean": statistics.fmean(s["precision"] for s in per_seed),
        "recall_mean": statistics.fmean(s["recall"] for s in per_seed),
        "per_label_f1_mean": {label: statistics.fmean(s["per_label"][label]["f1"] for s in per_seed)
                              for label in per_seed[0]["per_label"]},
        "support": per_seed[0]["support"],
        "per_seed": per_seed,
    }


def run_study(docs: Sequence[Document], ner_base: NERConfig, re_base: REConfig, seeds: Sequence[int],
              ner_variants: dict[str, dict] | None = None, re_variants: dict[str, dict] | None = None,
              work_dir: str | Path | None = None) -> dict[str, Any]:
    """Pooled leave-one-group-out scores for every NER/RE variant and the two baselines."""
    from .baselines import GazetteerBaseline, fit_baseline
    from .metrics import ner_scores, relation_scores
    from .ner import NERTagger, fit_ner
    from .relation import RelationClassifier, fit_re

    ner_variants = NER_VARIANTS if ner_variants is None else ner_variants
    re_variants = RE_VARIANTS if re_variants is None else re_variants
    folds = logo_folds(docs)
    work = Path(work_dir or tempfile.mkdtemp(prefix="tradeie-ablation-"))
    gold = [d for _, test in folds for d in test]
    preds: dict[str, dict[int, list[Document]]] = {}
    re_preds: dict[str, dict[int, list[Document]]] = {}
    seconds: dict[str, float] = {}

    def add(store, name, seed, docs_):
        store.setdefault(name, {}).setdefault(seed, []).extend(docs_)

    for k, (train, test) in enumerate(folds):
        log.info("fold %d: train %s, held out %s", k, [d.id for d in train], [d.id for d in test])
        for kind in ("crf", "gazetteer"):
            add(preds, f"baseline_{kind}", 0, fit_baseline(kind, train).predict(test))
        for seed in seeds:
            base_tagger = None
            for name, over in ner_variants.items():
                config = dataclasses.replace(ner_base, seeds=[seed], **over)
                started = time.perf_counter()
                out = fit_ner(train, None, config, work / f"f{k}-s{seed}-ner-{name}")
                seconds[f"ner_{name}"] = seconds.get(f"ner_{name}", 0.0) + time.perf_counter() - started
                tagger = NERTagger.load(out)
                add(preds, f"ner_{name}", seed, tagger.predict(test))
                if name == "base":
                    for dname, opts in NER_DECODING_VARIANTS.items():
                        variant = NERTagger(tagger.model, tagger.tokenizer, dataclasses.replace(tagger.settings),
                                            tagger.gazetteer)
                        if opts.get("gazetteer"):
                            variant.gazetteer = GazetteerBaseline.fit(train, ner_base.gazetteer_min_precision)
                        if "constrained" in opts:
                            variant.settings.constrained_decoding = opts["constrained"]
                        add(preds, f"ner_{dname}", seed, variant.predict(test))
                    base_tagger = tagger
                else:
                    shutil.rmtree(out, ignore_errors=True)
            for name, over in re_variants.items():
                if not any(d.relations for d in train):
                    continue
                config = dataclasses.replace(re_base, seeds=[seed], **over)
                started = time.perf_counter()
                out = fit_re(train, None, config, work / f"f{k}-s{seed}-re-{name}")
                seconds[f"re_{name}"] = seconds.get(f"re_{name}", 0.0) + time.perf_counter() - started
                classifier = RelationClassifier.load(out)
                add(re_preds, f"re_{name}", seed, classifier.predict(test))
                if name == "base" and base_tagger is not None:
                    predicted = base_tagger.predict(test)
                    add(re_preds, "re_base_end_to_end", seed,
                        classifier.predict(test, [p.entities for p in predicted]))
                shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(work / f"f{k}-s{seed}-ner-base", ignore_errors=True)
    results: dict[str, Any] = {
        "folds": [{"train": [d.id for d in tr], "held_out": [d.id for d in te]} for tr, te in folds],
        "seeds": list(seeds), "ner_config": ner_base.to_dict(), "re_config": re_base.to_dict(),
        "train_seconds": {k: round(v, 1) for k, v in seconds.items()},
        "ner": {}, "re": {},
    }
    for name, by_seed in preds.items():
        results["ner"][name] = _summary([ner_scores(gold, p) for p in by_seed.values()])
    for name, by_seed in re_preds.items():
        results["re"][name] = _summary([relation_scores(gold, p) for p in by_seed.values()])
    return results


def format_results(results: dict[str, Any]) -> str:
    """A Markdown table per task: pooled F1 mean +- sd over seeds, and per label."""
    lines = []
    for task in ("ner", "re"):
        rows = results[task]
        if not rows:
            continue
        labels = list(next(iter(rows.values()))["per_label_f1_mean"])
        lines.append(f"| {task.upper()} variant | P | R | F1 mean | F1 sd | " + " | ".join(labels) + " |")
        lines.append("|---" * (5 + len(labels)) + "|")
        for name, r in rows.items():
            lines.append(f"| {name} | {r['precision_mean']:.3f} | {r['recall_mean']:.3f} | {r['f1_mean']:.3f} | "
                         f"{r['f1_sd']:.3f} | " + " | ".join(f"{r['per_label_f1_mean'][lab]:.3f}" for lab in labels)
                         + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from ..annotations import load_gold
    from ..io import write_json_atomic
    from .config import load_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default="annotations/gold")
    parser.add_argument("--corpus", default="corpus/documents.jsonl")
    parser.add_argument("--ner-config", default="training/ner.toml")
    parser.add_argument("--re-config", default="training/re.toml")
    parser.add_argument("--set-ner", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--set-re", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--seeds", default="42,43")
    parser.add_argument("--ner-variants", default=",".join(NER_VARIANTS))
    parser.add_argument("--re-variants", default=",".join(RE_VARIANTS))
    parser.add_argument("--out", default="eval/ablation.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    docs = load_gold(args.gold, args.corpus)
    ner = load_config(args.ner_config, ["progress_bars=false", *args.set_ner], task="ner")
    rel = load_config(args.re_config, ["progress_bars=false", *args.set_re], task="re")
    pick = lambda table, names: {n: table[n] for n in names.split(",") if n}  # noqa: E731
    results = run_study(docs, ner, rel, [int(s) for s in args.seeds.split(",")],
                        pick(NER_VARIANTS, args.ner_variants), pick(RE_VARIANTS, args.re_variants))
    write_json_atomic(args.out, results)
    print(format_results(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
