"""Ablations: `tradeie cv` over config variants of one system (``NAME[KEY=VALUE,...]``)."""

from __future__ import annotations

import json

import pytest

from tradeie.cli import main
from tradeie.errors import TradeieError
from tradeie.evaluation.experiments import (
    BaselineSystem,
    RegisteredSystem,
    SystemSpec,
    TransformerSystem,
    make_systems,
    parse_overrides,
    parse_system,
)


def test_cv_ablation_writes_one_row_per_variant(tmp_path, toy_docs, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in toy_docs), encoding="utf-8")
    out = tmp_path / "eval" / "ablation"
    argv = ["cv", "--gold", str(gold), "--folds", "2", "--systems", "crf,crf[c1=0.2, c2=0.5]"]
    assert main([*argv, "--set", "crf.max_iterations=20", "--resamples", "20", "--out", str(out)]) == 0

    stdout = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in stdout[:2]] == ["crf", "crf[c1=0.2,c2=0.5]"]
    assert stdout[2] == f"report: {out / 'report.html'} (summary {out / 'report.md'}, metrics {out / 'metrics.json'})"
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    systems = metrics["cv"]["systems"]
    assert list(systems) == ["crf", "crf[c1=0.2,c2=0.5]"]
    base, variant = systems["crf"]["config"]["crf"], systems["crf[c1=0.2,c2=0.5]"]["config"]["crf"]
    assert (base["c1"], base["c2"], base["max_iterations"]) == (0.05, 0.05, 20)  # --set reaches both rows
    assert (variant["c1"], variant["c2"], variant["max_iterations"]) == (0.2, 0.5, 20)
    assert {k for k in base if base[k] != variant[k]} == {"c1", "c2"}
    assert metrics["system"]["name"] == "crf" and list(metrics["baselines"]) == ["crf[c1=0.2,c2=0.5]"]

    md = (out / "report.md").read_text(encoding="utf-8")
    rows = [line.split(" | ")[:2] for line in md.splitlines() if line.startswith("| ner_f1 |")]
    assert rows == [["| ner_f1", "crf"], ["| ner_f1", "crf[c1=0.2,c2=0.5]"]]


def test_parse_system():
    assert parse_system("crf") == SystemSpec("crf", "crf")
    assert parse_system(" crf[ c1=0.2 ,c2=0.5] ") == SystemSpec("crf[c1=0.2,c2=0.5]", "crf", ("c1=0.2", "c2=0.5"))
    assert parse_system("crf+re-rules[crf.c1=0.2]").parts == ("crf", "re-rules")
    assert parse_system('crf-rules[rule_labels=["TARIFF","AGREEMENT"], c1=0.2]').overrides == (
        'rule_labels=["TARIFF","AGREEMENT"]',
        "c1=0.2",
    )
    assert parse_system("model[ner.epochs=1]").parts == ("ner", "re")
    for bad in ("crf[]", "crf[c1]", "crf[c1=0.2", "[c1=0.2]"):
        with pytest.raises(TradeieError, match="--systems"):
            parse_system(bad)


def test_parse_overrides():
    assert parse_overrides(["crf.c1=0.1", "crf.c2=0.2", "ner.lr=1e-4"]) == {
        "crf": ["c1=0.1", "c2=0.2"],
        "ner": ["lr=1e-4"],
    }
    for bad in ("c1=0.1", "crf.c1", "crf=0.1", ".c1=0.1"):
        with pytest.raises(TradeieError, match="expected SYSTEM.KEY=VALUE"):
            parse_overrides([bad])


def test_make_systems_variants_and_pairs():
    systems = make_systems(
        ["crf", "crf[c2=0.5]", "crf+re-rules[crf.c1=0.3]", "gazetteer[gazetteer_min_precision=0.9]"],
        ["crf.c1=0.2"],
    )
    assert [s.name for s in systems] == [
        "crf",
        "crf[c2=0.5]",
        "crf+re-rules[crf.c1=0.3]",
        "gazetteer[gazetteer_min_precision=0.9]",
    ]
    assert [type(s) for s in systems] == [RegisteredSystem] * 3 + [BaselineSystem]
    crf = [s.configs["crf"] for s in systems[:3]]
    assert [(c.c1, c.c2) for c in crf] == [(0.2, 0.05), (0.2, 0.5), (0.3, 0.05)]  # the variant's value comes last
    assert systems[2].relations and set(systems[2].configs) == {"crf", "re-rules"}
    assert systems[3].configs["gazetteer"].gazetteer_min_precision == 0.9
    (labels,) = make_systems(['crf-rules[rule_labels=["TARIFF"]]'])
    assert labels.configs["crf-rules"].rule_labels == ("TARIFF",)


def test_make_systems_model_variant(tiny_configs, tmp_path):
    ner_toml = tmp_path / "ner.toml"
    ner_toml.write_text('task = "ner"\nepochs = 4\n', encoding="utf-8")
    model, short = make_systems(["model", "model[ner.epochs=1]"], ner_config=ner_toml, re_config="none")
    assert isinstance(short, TransformerSystem) and short.name == "model[ner.epochs=1]"
    assert (model.ner_config.epochs, short.ner_config.epochs) == (4, 1)
    assert model.re_config is None and not short.relations


@pytest.mark.parametrize(
    "names, overrides, message",
    [
        (["crf", "crf"], [], "crf given twice"),
        (["crf[c2=0.5]", "crf[ c2=0.5 ]"], [], r"crf\[c2=0.5\] given twice"),
        (["bert"], [], "unknown system"),
        (["crf[nope=1]"], [], "unknown key 'nope'"),
        (["crf+re-rules[c1=0.2]"], [], "'c1=0.2' sets no part of crf\\+re-rules"),
        (["model[epochs=1]"], [], "sets no part of model"),
        (["crf"], ["crff.c1=0.1"], "no system in --systems has a part 'crff'"),
    ],
)
def test_make_systems_errors(names, overrides, message):
    with pytest.raises(TradeieError, match=message):
        make_systems(names, overrides)


def test_cv_variant_mistakes_are_one_line_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "--gold", "x.jsonl", "--systems", "crf,crf[c3=1]"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tradeie: error:") and "unknown key 'c3' for a crf config" in err and "\n" not in err
