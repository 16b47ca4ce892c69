"""Leave-one-group-out study of the low-resource options (tiny model, one seed)."""
from __future__ import annotations

from dataclasses import replace


def test_logo_folds_keep_groups_together(toy_docs):
    from tradeie.training.ablation import logo_folds

    docs = [replace(d, meta={**d.meta, "near_duplicate_group": "g0" if i < 2 else d.id})
            for i, d in enumerate(toy_docs[:4])]
    folds = logo_folds(docs)
    assert len(folds) == 3
    held = [sorted(d.id for d in test) for _, test in folds]
    assert sorted(map(tuple, held)) == sorted([("doc0", "doc1"), ("doc2",), ("doc3",)])
    for train, test in folds:
        assert not {d.id for d in train} & {d.id for d in test}


def test_study_pools_folds_and_reports_every_variant(tmp_path, toy_docs, ner_config, re_config):
    from tradeie.training.ablation import format_results, run_study

    results = run_study(toy_docs[:3], replace(ner_config, epochs=1), replace(re_config, epochs=1), [1],
                        {"base": {}}, {"base": {}}, work_dir=tmp_path)
    assert len(results["folds"]) == 3
    assert set(results["ner"]) == {"ner_base", "ner_gazetteer_ensemble", "ner_unconstrained_decoding", "baseline_crf",
                                   "baseline_gazetteer"}
    assert set(results["re"]) == {"re_base", "re_base_end_to_end"}
    support = sum(len(d.entities) for d in toy_docs[:3])
    for row in results["ner"].values():
        assert row["support"] == support and 0 <= row["f1_mean"] <= 1 and row["f1_sd"] == 0.0
    table = format_results(results)
    assert "| baseline_crf |" in table and "| re_base_end_to_end |" in table
    assert not any(tmp_path.iterdir())  # per-fold models are removed
