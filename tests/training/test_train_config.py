"""Training configs: loading, overrides, validation, unknown keys, shipped files."""

from __future__ import annotations

import dataclasses

import pytest

from tradeie.errors import TradeieError
from tradeie.training.config import BaselineConfig, NERConfig, REConfig, describe, load_config


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_with_overrides(tmp_path):
    path = write(tmp_path, "ner.toml", 'task = "ner"\nepochs = 4\nlearning_rate = 1e-4\n')
    config = load_config(
        path, ["epochs=3", "seeds=[1, 2, 3]", "augment=true", "run_name=demo", "base_model=some/model"]
    )
    assert isinstance(config, NERConfig)
    assert config.epochs == 3.0 and config.learning_rate == 1e-4
    assert config.seeds == [1, 2, 3] and config.augment is True
    assert config.run_name == "demo" and config.base_model == "some/model"


def test_yaml_and_comma_list_override(tmp_path):
    path = write(tmp_path, "re.yaml", "task: re\nwindow: 0\nnegative_ratio: 2\n")
    config = load_config(path, ["seeds=5,6"])
    assert isinstance(config, REConfig)
    assert config.window == 0 and config.negative_ratio == 2.0 and config.seeds == [5, 6]


def test_task_from_command_when_file_has_none(tmp_path):
    path = write(tmp_path, "b.toml", "kinds = ['gazetteer']\n")
    config = load_config(path, task="baseline")
    assert isinstance(config, BaselineConfig) and config.kinds == ["gazetteer"]


def test_unknown_key_names_file_and_key(tmp_path):
    path = write(tmp_path, "ner.toml", 'task = "ner"\nepoch = 3\n')
    with pytest.raises(TradeieError) as err:
        load_config(path)
    assert str(path) in str(err.value) and "'epoch'" in str(err.value)
    assert "epochs" in str(err.value)  # suggests the close match


def test_unknown_override_key(tmp_path):
    path = write(tmp_path, "ner.toml", 'task = "ner"\n')
    with pytest.raises(TradeieError, match="--set learnig_rate=1.*unknown key 'learnig_rate'"):
        load_config(path, ["learnig_rate=1"])


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("stride=100", "stride"),
        ("learning_rate=-1", "learning_rate"),
        ("epochs=0", "epochs"),
        ("seeds=[1, 1]", "distinct"),
        ("device=tpu", "device"),
        ("augment=maybe", "true or false"),
        ("batch_size=many", "integer"),
    ],
)
def test_invalid_values_rejected_up_front(tmp_path, override, fragment):
    path = write(tmp_path, "ner.toml", 'task = "ner"\n')
    with pytest.raises(TradeieError, match=fragment):
        load_config(path, [override])


def test_task_mismatch_and_bad_files(tmp_path):
    with pytest.raises(TradeieError, match="trains 're'"):
        load_config(write(tmp_path, "x.toml", 'task = "ner"\n'), task="re")
    with pytest.raises(TradeieError, match="not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(TradeieError, match="invalid TOML"):
        load_config(write(tmp_path, "bad.toml", "task = \n"))
    with pytest.raises(TradeieError, match="unsupported"):
        load_config(write(tmp_path, "c.json", "{}"))
    with pytest.raises(TradeieError, match="task"):
        load_config(write(tmp_path, "none.toml", "epochs = 2\n"))
    with pytest.raises(TradeieError, match="expected key=value"):
        load_config(write(tmp_path, "ok.toml", 'task = "ner"\n'), ["epochs"])


@pytest.mark.parametrize("cls", [NERConfig, REConfig, BaselineConfig])
def test_every_field_documented(cls):
    for f in dataclasses.fields(cls):
        assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help text"
    text = describe(cls)
    assert all(f.name in text for f in dataclasses.fields(cls))


@pytest.mark.parametrize("name, cls", [("ner", NERConfig), ("re", REConfig), ("baseline", BaselineConfig)])
def test_shipped_configs_load(repo_root, name, cls):
    config = load_config(repo_root / "training" / f"{name}.toml")
    assert isinstance(config, cls)
    config.validate()
