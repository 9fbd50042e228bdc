"""Geometric self-ensemble (`--ensemble N`): the model averaged over flips and transposes of its input.

A restoration model trained on flipped and rotated crops is nearly, but not exactly, equivariant
to those transforms; averaging its outputs over N of them (each undone before the average) cancels
part of its error, as EDSR's "+" models do (Lim et al. 2017). It costs N model runs: for the shipped
super-resolution models x8 buys about +0.1 dB, for the deblur models up to +0.4 dB on mild blur
(docs/benchmarks.md, "self-ensemble"), so it is an option, never the default.

Transforms are the dihedral group's eight, taken in an order where every prefix used is a group:
N = 2 adds the left-right mirror, N = 4 the up-down mirror and both, N = 8 the four with rows and
columns swapped. N <= 4 keeps the image's height and width, so tiling and memory are as for one run.
The wrapper is an `OnnxModel` whose `run` does the averaging, so tiling, the pyramid and the video
path use it unchanged. Torch-free (numpy).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gan_app.errors import UserError
from gan_app.runtime.session import OnnxModel

CHOICES = (1, 2, 4, 8)


def parse_ensemble(value) -> int:
    """`--ensemble` value -> one of CHOICES; a one-line UserError naming them otherwise."""
    text = str(value).strip()
    if text not in {str(n) for n in CHOICES}:
        raise UserError(f"--ensemble must be one of {', '.join(map(str, CHOICES))} (model runs averaged per image), "
                        f"got {value!r}")
    return int(text)


def transform(batch: np.ndarray, k: int) -> np.ndarray:
    """Dihedral transform `k` (0-7) of a (N, C, H, W) batch: bit 2 swaps H and W, bit 0 mirrors W, bit 1 mirrors H."""
    if k & 4:
        batch = batch.transpose(0, 1, 3, 2)
    if k & 1:
        batch = batch[..., ::-1]
    if k & 2:
        batch = batch[..., ::-1, :]
    return np.ascontiguousarray(batch)


def undo(batch: np.ndarray, k: int) -> np.ndarray:
    """The inverse of `transform(., k)` (mirrors first, then the swap)."""
    if k & 2:
        batch = batch[..., ::-1, :]
    if k & 1:
        batch = batch[..., ::-1]
    if k & 4:
        batch = batch.transpose(0, 1, 3, 2)
    return batch


@dataclasses.dataclass
class EnsembledModel(OnnxModel):
    """`OnnxModel` whose output is the mean over `transforms` dihedral transforms of its image input."""

    transforms: int = 1

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        name = self.image_input()
        total: np.ndarray | None = None
        for k in range(self.transforms):
            out = undo(super().run({**feeds, name: transform(np.asarray(feeds[name]), k)}), k).astype(np.float32)
            total = out if total is None else total + out
        total /= np.float32(self.transforms)
        return total


def ensembled(model: OnnxModel, transforms: int) -> OnnxModel:
    """`model` itself for 1, else an `EnsembledModel` over the first `transforms` transforms (one of CHOICES).
    Needs a model with one image input (fully convolutional, as every image-to-image head's is)."""
    transforms = parse_ensemble(transforms)
    if transforms == 1:
        return model
    if model.image_input() is None:
        raise UserError(f"model {model.path.name} takes no single image input, so it cannot be self-ensembled")
    base = {f.name: getattr(model, f.name) for f in dataclasses.fields(OnnxModel)}
    return EnsembledModel(**base, transforms=transforms)
