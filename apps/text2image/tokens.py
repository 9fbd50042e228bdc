"""Torch-free, word-level tokenisation shared by training and inference.

A caption is lower-cased and split into words (letters/digits runs: "top-left" -> "top",
"left"). A `Vocabulary` maps each known word to one or more rows of the text encoder's
embedding table (row 0 is padding): one row per word for the trainable encoder, the word's
wordllama BPE pieces for the pretrained one. Unknown words are dropped and reported, so the
caller can warn (some unknown) or refuse (all unknown); captions longer than `max_tokens`
rows are truncated and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

PAD = 0
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about what to draw: a caption made of these alone (plus unknown words)
# would be rendered from "the" or "a", so it is refused instead (English function words).
FUNCTION_WORDS = frozenset("a an and at by for in into is it its of on or placed that the there this to with".split())


def words(text: str) -> list[str]:
    """Lower-cased words of `text`."""
    return _WORD.findall(text.lower())


@dataclass
class Encoded:
    """tokens (B, L) int64 (0 = padding); per caption: unknown words and whether it was truncated."""

    tokens: np.ndarray
    unknown: list[list[str]] = field(default_factory=list)
    truncated: list[bool] = field(default_factory=list)


@dataclass
class Vocabulary:
    """word -> table rows (each >= 1); `max_tokens` rows per caption."""

    pieces: dict[str, tuple[int, ...]]
    max_tokens: int

    def encode(self, captions: list[str]) -> Encoded:
        """Captions -> Encoded; unknown words dropped, long captions cut at `max_tokens` rows."""
        out = np.zeros((len(captions), self.max_tokens), dtype=np.int64)  # (B, L)
        unknown, truncated = [], []
        for i, text in enumerate(captions):
            rows, missing = [], []
            for word in words(text):
                if word in self.pieces:
                    rows.extend(self.pieces[word])
                else:
                    missing.append(word)
            out[i, : min(len(rows), self.max_tokens)] = rows[: self.max_tokens]
            unknown.append(missing)
            truncated.append(len(rows) > self.max_tokens)
        return Encoded(out, unknown, truncated)

    def to_json_dict(self) -> dict:
        return {"pieces": {w: list(p) for w, p in sorted(self.pieces.items())}, "max_tokens": self.max_tokens}

    @classmethod
    def from_json_dict(cls, data: dict) -> "Vocabulary":
        return cls({w: tuple(int(i) for i in p) for w, p in data["pieces"].items()}, int(data["max_tokens"]))


def trainable_vocabulary(vocab: tuple[str, ...], max_tokens: int) -> Vocabulary:
    """One row per word: word i of `vocab` -> row i + 1."""
    return Vocabulary({w: (i + 1,) for i, w in enumerate(vocab)}, max_tokens)
