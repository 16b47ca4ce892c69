"""The Hub-ready folder: layout, load-back equality, card validity, atomic writes."""

from __future__ import annotations

import re

import pytest
import yaml

from tradeie.data.dataset import CONFIG_NAMES, content_fingerprint, load_hub_configs, load_hub_folder, write_hub_folder
from tradeie.errors import TradeieError
from tradeie.schema import ENTITY_TYPES, RELATION_TYPES
from tradeie.data.splits import DEFAULT_SEED, SPLIT_NAMES


def _front_matter(text: str) -> dict:
    match = re.match(r"\A---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "README.md must start with YAML front matter"
    return yaml.safe_load(match.group(1))


def test_layout(hub_dir):
    files = sorted(
        p.relative_to(hub_dir).as_posix() for p in hub_dir.rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    expected = [f"data/{c}/{s}-00000-of-00001.parquet" for c in CONFIG_NAMES for s in SPLIT_NAMES]
    assert files == sorted(expected + ["GUIDELINES.md", "README.md"])


@pytest.mark.parametrize("config", CONFIG_NAMES)
def test_load_dataset_reproduces_rows_and_features(hub_dir, built, config, tmp_path):
    import datasets

    loaded = datasets.load_dataset(str(hub_dir), config, cache_dir=str(tmp_path / "cache"))
    assert list(loaded) == list(built[config])
    for split in built[config]:
        assert loaded[split].features == built[config][split].features
        assert loaded[split].to_list() == built[config][split].to_list()
    assert load_hub_folder(hub_dir, config)[split].to_list() == built[config][split].to_list()


def test_default_config_is_ner(hub_dir, built, tmp_path):
    import datasets

    loaded = datasets.load_dataset(str(hub_dir), cache_dir=str(tmp_path / "cache"))
    assert loaded["train"].to_list() == built["ner"]["train"].to_list()


def test_loaded_configs_give_the_same_fingerprint(hub_dir, built):
    assert content_fingerprint(load_hub_configs(hub_dir)) == content_fingerprint(built)


def test_load_errors(tmp_path, hub_dir):
    with pytest.raises(TradeieError, match="not a dataset folder"):
        load_hub_folder(tmp_path / "missing", "ner")
    with pytest.raises(TradeieError, match="unknown config"):
        load_hub_folder(hub_dir, "spans")


def test_card_metadata_is_valid_yaml_with_hub_fields(hub_dir):
    from huggingface_hub import DatasetCard

    text = (hub_dir / "README.md").read_text(encoding="utf-8")
    meta = _front_matter(text)
    assert meta["language"] == ["en"]
    assert meta["license"]
    assert meta["pretty_name"]
    assert meta["task_categories"] == ["token-classification"]
    assert meta["task_ids"] == ["named-entity-recognition"]
    assert meta["size_categories"] == ["n<1K"]
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert set(configs) == set(CONFIG_NAMES)
    assert configs["ner"]["default"] is True
    for name, cfg in configs.items():
        assert cfg["data_files"] == [{"split": s, "path": f"data/{name}/{s}-*"} for s in SPLIT_NAMES]
    infos = {i["config_name"]: i for i in meta["dataset_info"]}
    ner_features = {f["name"]: f for f in infos["ner"]["features"]}
    assert ner_features["ner_tags"]["list"]["class_label"]["names"] == {
        "0": "O",
        "1": "B-ACTOR",
        "2": "I-ACTOR",
        "3": "B-AGREEMENT",
        "4": "I-AGREEMENT",
        "5": "B-TARIFF",
        "6": "I-TARIFF",
    }
    assert all(s["num_examples"] > 0 for s in infos["ner"]["splits"])
    card = DatasetCard.load(hub_dir / "README.md")  # huggingface_hub parses it too
    assert card.data.pretty_name == meta["pretty_name"]
    assert card.data.to_dict()["task_ids"] == ["named-entity-recognition"]


def test_card_sections(hub_dir, built, docs5):
    text = (hub_dir / "README.md").read_text(encoding="utf-8")
    for heading in (
        "Tasks",
        "Configurations and fields",
        "Label schema",
        "Relation schema",
        "Statistics",
        "Source documents",
        "Annotation process",
        "Splits",
        "Limitations and biases",
        "How to load and train",
        "Citation",
    ):
        assert re.search(rf"^## {re.escape(heading)}$", text, re.MULTILINE), heading
    for t in ENTITY_TYPES:
        assert re.search(rf"^\| `{t.name}` \| {re.escape(t.definition)} \|$", text, re.MULTILINE)
    for r in RELATION_TYPES:
        assert re.search(rf"^\| `{r.name}` \| {r.head} \| {r.tail} \| ", text, re.MULTILINE)
    # counts per label per split
    assert re.search(r"^\|  \| train \| validation \| test \| total \|$", text, re.MULTILINE)
    actor_total = sum(1 for d in docs5 for e in d.entities if e.label == "ACTOR")
    assert re.search(rf"^\| spans ACTOR \| \d+ \| \d+ \| \d+ \| {actor_total} \|$", text, re.MULTILINE)
    assert re.search(r"^\| relations party_to \|", text, re.MULTILINE)
    # source documents with date/source/sha256, and the split assignment
    for doc in docs5:
        assert doc.id in text
        if doc.meta.get("sha256"):
            assert f"`{doc.meta['sha256']}`" in text
    for split, ds in built["documents"].items():
        line = re.search(rf"^\| {split} \| (.*) \|$", text, re.MULTILINE).group(1)
        assert sorted(re.findall(r"`([^`]+)`", line)) == sorted(ds["id"])
    assert f"seed {DEFAULT_SEED}" in text and "0.5 / 0.25 / 0.25" in text
    assert content_fingerprint(built) in text
    # agreement figures quoted from the guidelines, limitations, code, citation
    assert "### Inter-annotator agreement (from GUIDELINES.md)" in text and "| span F1, strict | 0.912 |" in text
    assert "Changelog" not in text
    assert re.search(r"Small: 5 documents \(4 independent", text)
    assert "| real-news | 2 | 1 | 1 | 4 |" in text and "| (not recorded) | 0 | 0 | 0 |" not in text
    assert 'load_dataset("tradeie-test/trade-ner", "ner")' in text
    assert re.search(r"```bibtex\n@misc\{trade_ner,\n  title +=", text)
    assert "https://huggingface.co/datasets/tradeie-test/trade-ner" in text


def test_guidelines_copied_or_generated(hub_dir, guidelines_file, tmp_path, built, tiny_tokenizer):
    assert (hub_dir / "GUIDELINES.md").read_bytes() == guidelines_file.read_bytes()
    out = tmp_path / "gen"
    write_hub_folder(built, None, out, tokenizer=tiny_tokenizer, guidelines=tmp_path / "absent.md")
    generated = (out / "GUIDELINES.md").read_text(encoding="utf-8")
    for t in ENTITY_TYPES:
        assert t.definition in generated
    assert "party_to** (ACTOR -> AGREEMENT)" in generated
    assert "No agreement figures were found" in (out / "README.md").read_text(encoding="utf-8")


def test_write_is_atomic(tmp_path, built, tiny_tokenizer, monkeypatch):
    out = tmp_path / "ds"
    write_hub_folder(built, None, out, tokenizer=tiny_tokenizer, guidelines=None)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    import tradeie.data.card

    def boom(**_):
        raise RuntimeError("card failed")

    monkeypatch.setattr(tradeie.data.card, "make_card", boom)
    with pytest.raises(RuntimeError):
        write_hub_folder(built, None, out, tokenizer=tiny_tokenizer, guidelines=None)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["ds"], "no temp folder left behind"


def test_missing_config_is_an_error(built, tmp_path):
    with pytest.raises(TradeieError, match="missing config"):
        write_hub_folder({"ner": built["ner"]}, None, tmp_path / "x")


def test_card_code_samples_run(hub_dir, tiny_model_dir, tmp_path, monkeypatch):
    """The card's loading and training samples work on the folder (tiny model, 1 epoch)."""
    text = (hub_dir / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        code = code.replace('"tradeie-test/trade-ner"', repr(str(hub_dir)))
        code = code.replace('"sentence-transformers/all-MiniLM-L6-v2"', repr(str(tiny_model_dir)))
        code = code.replace("num_train_epochs=3", "num_train_epochs=1, use_cpu=True, save_strategy='no'")
        code = code.replace("print(", "(")
        namespace: dict = {}
        exec(compile(code, "card-sample", "exec"), namespace)  # noqa: S102 - our own card's sample
        if "trainer" in namespace:
            metrics = namespace["trainer"].evaluate()
            assert "eval_loss" in metrics


@pytest.mark.parametrize("config", CONFIG_NAMES)
def test_parquet_and_batches_read_from_the_arrow_file_equal_the_memory_mapped_ones(
    built, config, tmp_path, monkeypatch
):
    import filecmp

    import datasets

    from tradeie.data import dataset as dataset_module

    monkeypatch.setattr(datasets.config, "MAX_ROW_GROUP_SIZE", "4KB")  # several row groups even for tiny splits
    monkeypatch.setattr(dataset_module, "ROW_GROUP_SIZE", "4KB")  # our cap, in place of datasets' 100MB
    ds = built[config]["train"]
    assert dataset_module._file_batches(ds) is not None  # one whole Arrow file: the buffered path is taken
    ds.to_parquet(str(tmp_path / "library.parquet"))
    assert dataset_module._nbytes(ds) == ds.data.nbytes
    dataset_module._write_parquet(ds, tmp_path / "ours.parquet", dataset_module._nbytes(ds))
    assert filecmp.cmp(tmp_path / "library.parquet", tmp_path / "ours.parquet", shallow=False)
    columns = list(ds.features)
    read = [t.to_pylist() for t in dataset_module._arrow_batches(ds, columns)]
    assert [row for rows in read for row in rows] == ds.with_format("arrow")[:].select(columns).to_pylist()
    subset = ds.select(range(min(3, len(ds))))  # an index mapping: the memory-mapped path
    assert dataset_module._file_batches(subset) is None


def test_card_of_a_large_corpus_counts_documents_instead_of_listing_them(
    tmp_path, built, docs5, tiny_tokenizer, monkeypatch
):
    import tradeie.data.card

    monkeypatch.setattr(tradeie.data.card, "DOCUMENT_TABLE_LIMIT", 4)  # docs5 holds 5
    write_hub_folder(built, docs5, tmp_path / "ds", tokenizer=tiny_tokenizer, guidelines=None)
    text = (tmp_path / "ds" / "README.md").read_text(encoding="utf-8")
    assert "| document | origin | split |" not in text
    assert "is the `documents` config itself: this card lists documents only for corpora of up\nto 4 documents" in text
    for split, ds in built["documents"].items():
        assert re.search(rf"^\| {split} \| {len(ds)} \(ids: the `id` column", text, re.MULTILINE)
    assert "| real-news | 2 | 1 | 1 | 4 |" in text  # the origin table stays


def test_parquet_row_groups_are_capped(built, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from tradeie.data import dataset as dataset_module

    ds = built["relations"]["train"]
    nbytes = dataset_module._nbytes(ds)
    monkeypatch.setattr(dataset_module, "ROW_GROUP_SIZE", nbytes // 3)  # an int is bytes
    dataset_module._write_parquet(ds, tmp_path / "capped.parquet", nbytes)
    assert pq.ParquetFile(tmp_path / "capped.parquet").metadata.num_row_groups >= 3
    assert pq.read_table(tmp_path / "capped.parquet").to_pylist() == ds.with_format("arrow")[:].to_pylist()
