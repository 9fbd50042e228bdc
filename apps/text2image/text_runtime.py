"""The exported text encoder on ONNX Runtime (torch-free): captions -> embeddings (B, text_dim).

The encoder graph (`<stem>.text.onnx`, beside the generator) carries its vocabulary in its
metadata (`gan_app.text_vocabulary`: word -> table rows, max tokens), so tokenisation is numpy
only and needs neither torch nor wordllama.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from gan_app.errors import UserError

from .tokens import FUNCTION_WORDS, Vocabulary, words

KEY_VOCAB = "gan_app.text_vocabulary"
KEY_HEAD = "gan_app.head"
TOKENS_INPUT = "tokens"


def text_graph_path(generator_path: Path) -> Path:
    """`x/text2image-v1.onnx` -> `x/text2image-v1.text.onnx`."""
    return generator_path.with_name(f"{generator_path.stem}.text.onnx")


class TextEncoderSession:
    """`encode(captions)` -> (B, text_dim) float32, refusing captions with no known word."""

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        if not path.is_file():
            raise UserError(f"text encoder {path} not found beside the generator; re-export the model with "
                            "`gan-app export text2image --checkpoint CKPT -o model.onnx`")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if KEY_VOCAB not in meta:
            raise UserError(f"{path} is not a gan_app text encoder (no {KEY_VOCAB} metadata); re-export the model")
        self.vocab = Vocabulary.from_json_dict(json.loads(meta[KEY_VOCAB]))
        self.path = path

    def tokens(self, captions: list[str], warn=lambda s: print(s, file=sys.stderr)) -> np.ndarray:
        """(B, max_tokens) int64 rows; UserError for an empty or wholly unknown caption, notes for the rest."""
        for text in captions:
            if not words(text):
                raise UserError("the caption is empty (no words); describe the image, e.g. \"a small red circle at the top left\"")
        encoded = self.vocab.encode(captions)
        for text, unknown, cut, row in zip(captions, encoded.unknown, encoded.truncated, encoded.tokens):
            if not any(w in self.vocab.pieces and w not in FUNCTION_WORDS for w in words(text)):
                known = ", ".join(sorted(w for w in self.vocab.pieces if w not in FUNCTION_WORDS))
                raise UserError(f"none of the words in {text!r} that say what to draw are known to this model; "
                                f"it knows: {known}")
            if unknown:
                warn(f"note: unknown word(s) ignored in {text!r}: {', '.join(unknown)}")
            if cut:
                warn(f"note: caption {text!r} is longer than {self.vocab.max_tokens} tokens; the rest was cut off")
        return encoded.tokens

    def encode(self, captions: list[str]) -> np.ndarray:
        return self.session.run(None, {TOKENS_INPUT: self.tokens(captions)})[0].astype(np.float32)  # (B, T)
