"""Data of the text-to-image head: config, splits, vocabulary and the training Dataset.

`load_split` returns `CaptionedImages` from the built-in `shapes` set (with exact attributes)
or a captioned folder. `model_words` is the model's word list, taken from the training captions
while the model config has none (the head's `complete_model` then stores it there, hence in
checkpoints and ONNX files); `vocabulary_for` maps those words to table rows. `CaptionedDataset` yields batches {"image": (B, 3, R, R) in [-1, 1], "tokens":
(B, L) int64, ["attributes": (B, 4) int64]}; each item's caption is drawn at random from its
captions on every visit (the engine seeds torch's RNG per step, so runs stay reproducible).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from gan_app.data.ranges import to_model_range
from gan_app.errors import UserError

from .captions import CaptionedImages, load_captioned_folder
from .tokens import Vocabulary, trainable_vocabulary, words

SPLITS = ("train", "val", "heldout")


# The built-in captioned shapes set; "shapes" is its name before session 9 (configs stored in
# checkpoints still say it), kept so they load and evaluate unchanged.
SHAPES = "captioned-shapes"
SHAPES_NAMES = (SHAPES, "shapes")

@dataclass
class Text2ImageDataConfig:
    path: str = "captioned-shapes"   # captioned-shapes | a folder of img.png + img.txt | a CUB/Oxford root (images/, text_c10/)
    limit: int = 0             # use only the first N items of a split (0 = all)
    shapes_train: int = 20_000  # generated training images of `shapes`
    shapes_eval: int = 2_000   # generated images of each evaluation split of `shapes`


def load_split(cfg: Text2ImageDataConfig, split: str, resolution: int) -> CaptionedImages:
    """`split` in train | val | heldout (heldout: the shapes set's unseen colour x shape pairs)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if cfg.path in SHAPES_NAMES:
        from .shapes import all_captions, shapes_split

        n = cfg.shapes_train if split == "train" else cfg.shapes_eval
        data = shapes_split(split, min(n, cfg.limit) if cfg.limit else n, resolution)
        return CaptionedImages(data.images, [all_captions(a) for a in data.attributes], data.attributes)
    if split == "heldout":
        raise UserError("the held-out split (unseen attribute combinations) exists only for --data captioned-shapes")
    return load_captioned_folder(cfg.path, split, resolution, cfg.limit)


def words_by_frequency(captions: list[list[str]]) -> tuple[str, ...]:
    """Every word of the captions, most frequent first (ties alphabetical)."""
    counts = Counter(w for lines in captions for line in lines for w in words(line))
    return tuple(sorted(counts, key=lambda w: (-counts[w], w)))


def model_words(model_cfg, captions: list[list[str]] | None = None) -> tuple[str, ...]:
    """The words the model knows: `model_cfg.vocab`, or while that is empty every word of the training
    `captions`, sorted; a UserError when the trainable encoder's table cannot hold them."""
    if model_cfg.vocab:
        return tuple(model_cfg.vocab)
    if captions is None:
        raise ValueError("the model has no vocabulary yet and no captions were given to build one")
    found = words_by_frequency(captions)
    if model_cfg.text_encoder == "trainable" and len(found) + 1 > model_cfg.vocab_size:
        raise UserError(f"the captions use {len(found)} distinct words but model.vocab_size is "
                        f"{model_cfg.vocab_size}; pass --set model.vocab_size={len(found) + 1}")
    return tuple(sorted(found))


def vocabulary_for(model_cfg, captions: list[list[str]] | None = None) -> Vocabulary:
    """The word -> table rows map of `model_words(model_cfg, captions)`, its words in that order."""
    vocab = model_words(model_cfg, captions)
    if model_cfg.text_encoder == "trainable":
        return trainable_vocabulary(vocab, model_cfg.max_tokens)
    from .wordllama_table import word_pieces

    return Vocabulary(word_pieces(vocab), model_cfg.max_tokens)


class CaptionedDataset(Dataset):
    """Captioned images as training items; all captions are tokenised once up front with `vocab`."""

    def __init__(self, data: CaptionedImages, vocab: Vocabulary):
        if len(data.images) == 0:
            raise UserError("the training split holds no captioned images")
        self.vocab = vocab
        self.images = torch.from_numpy(data.images)  # (N, 3, R, R) uint8
        counts = [len(c) for c in data.captions]
        flat = vocab.encode([line for lines in data.captions for line in lines]).tokens  # (sum K, L)
        self.tokens = torch.from_numpy(flat)
        self.offsets = torch.tensor(np.concatenate([[0], np.cumsum(counts)[:-1]]), dtype=torch.int64)  # (N,)
        self.counts = torch.tensor(counts, dtype=torch.int64)  # (N,)
        self.attributes = None if data.attributes is None else torch.from_numpy(data.attributes)

    def __len__(self) -> int:
        return len(self.images)

    def __getitems__(self, indices: list[int]) -> dict:
        idx = torch.as_tensor(indices, dtype=torch.int64)  # (B,)
        pick = (torch.rand(len(idx)) * self.counts[idx]).long()  # (B,) caption choice per item
        batch = {"image": to_model_range(self.images[idx]), "tokens": self.tokens[self.offsets[idx] + pick]}
        if self.attributes is not None:
            batch["attributes"] = self.attributes[idx]
        return batch

    def __getitem__(self, index: int) -> dict:
        return {k: v[0] for k, v in self.__getitems__([index]).items()}
