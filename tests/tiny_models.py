"""One builder for the tiny randomly initialised BERT models the tests train (fast on CPU)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789") + list(".,;:%-'\"()?!&/$")
WORDS = (
    "the and of to in a an on at by for with from is was are be has have said that this it as "
    "india indian us u.s. united states china japan washington new delhi gor sergio minister "
    "tariff tariffs duty duties agreement deal pact trade interim framework critical minerals "
    "signed cut imposed raised goods exports imports percent officials met monday talks"
).split()


def build_tiny_bert(folder: Path, words: Iterable[str] = WORDS, seed: int = 0, head=None) -> Path:
    """Save a 2-layer BERT (hidden 32) and a lower-casing WordPiece tokenizer over ``words`` to ``folder``.

    ``head`` is the model class to save (default ``BertModel``); pass e.g.
    ``BertForTokenClassification`` with ``config_kwargs`` baked into a subclass if needed.
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = list(dict.fromkeys(SPECIAL + [w.lower() for w in words] + CHARS + ["##" + c for c in CHARS if c.isalnum()]))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab=str(folder / "vocab.txt"), do_lower_case=True, model_max_length=512)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=512,
    )
    (head or BertModel)(config).save_pretrained(folder)
    return folder
