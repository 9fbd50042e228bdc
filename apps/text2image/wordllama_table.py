"""The pretrained wordllama token embeddings, read from the installed `wordllama` wheel (train time only).

wordllama ships a 32,000 x 256 token-embedding table (`weights/l2_supercat_256.safetensors`,
float16) and the Llama-2 BPE tokenizer it belongs to (`tokenizers/l2_supercat_tokenizer_config.json`).
Both are read as data files (safetensors + the `tokenizers` JSON format), never unpickled.
Table row k + 1 holds wordllama token k, so row 0 stays free for padding.
Inference never needs wordllama: export keeps only the rows of the model's vocabulary.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import numpy as np

from gan_app.errors import UserError

TABLE_FILE = "weights/l2_supercat_256.safetensors"
TOKENIZER_FILE = "tokenizers/l2_supercat_tokenizer_config.json"
DIM = 256
ROWS = 32_000 + 1  # + the padding row


def _package_file(relative: str) -> Path:
    try:
        root = Path(str(resources.files("wordllama")))
    except ModuleNotFoundError:
        raise UserError("the wordllama text encoder needs the `wordllama` package: run `pip install wordllama` "
                        "(or `pip install 'gan-app[text]'`), or train with --set model.text_encoder=trainable") from None
    path = root / relative
    if not path.is_file():
        raise UserError(f"the installed wordllama has no {relative}; reinstall it (`pip install -U wordllama`) "
                        "or train with --set model.text_encoder=trainable")
    return path


@functools.lru_cache(maxsize=1)
def table() -> np.ndarray:
    """(ROWS, 256) float32: a zero padding row, then wordllama's token embeddings scaled to unit length.

    The raw rows have norms around 14 (the model compares them by cosine); unit rows keep
    the GRU gates out of saturation at the start of training.
    """
    from safetensors.numpy import load_file

    weights = load_file(str(_package_file(TABLE_FILE)))["embedding.weight"]  # (32000, 256) float16
    rows = weights.astype(np.float32)
    rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-6)
    return np.concatenate([np.zeros((1, DIM), np.float32), rows])


@functools.lru_cache(maxsize=1)
def _tokenizer():
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(_package_file(TOKENIZER_FILE)))


def word_pieces(words: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """word -> table rows of its BPE pieces (wordllama token id + 1), each word tokenised alone."""
    tok = _tokenizer()
    return {w: tuple(i + 1 for i in tok.encode(w, add_special_tokens=False).ids) for w in words}
