"""Distillation from a frozen teacher (`train.teacher`): its self-ensembled output is a second content target.

A small restoration model's errors on mild blur are large and direction-dependent: averaging it over
mirrors of its input (`--ensemble`, gan_app.runtime.ensemble) gains up to +0.4 dB on the deblur models,
which means one run of the model is far from the best function it could compute. Self-distillation
trains the fast model towards that average (the teacher: a trained generator of the same head, run
over `train.teacher_ensemble` dihedral transforms, frozen), so the student keeps one run's cost.

The engine computes the head's content terms twice: against the ground truth `batch["target"]`,
weighted 1 - `train.teacher_share`, and against the teacher's output, weighted `teacher_share`
(logged as `distill/<term>`). It needs a paired head (batches with a `target` of the generator's
output shape). The teacher may have any architecture of the head (its file describes it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_app.checkpoint import load_generator, load_module
from gan_app.config import from_dict
from gan_app.errors import UserError
from gan_app.runtime.ensemble import CHOICES

DISTILL_PREFIX = "distill/"


def dihedral(batch: torch.Tensor, k: int) -> torch.Tensor:
    """Dihedral transform `k` (0-7) of a (N, C, H, W) batch, numbered as gan_app.runtime.ensemble.transform."""
    if k & 4:
        batch = batch.transpose(2, 3)
    if k & 1:
        batch = batch.flip(3)
    if k & 2:
        batch = batch.flip(2)
    return batch


def undo_dihedral(batch: torch.Tensor, k: int) -> torch.Tensor:
    """The inverse of `dihedral(., k)`."""
    if k & 2:
        batch = batch.flip(2)
    if k & 1:
        batch = batch.flip(3)
    if k & 4:
        batch = batch.transpose(2, 3)
    return batch


def load_teacher_generator(path: str | Path, head: Any) -> nn.Module:
    """The generator stored at `path` (a training checkpoint, EMA weights when present, or an exported
    .onnx of `head`), built with the architecture its own file declares, in eval mode, frozen."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"train.teacher: {path} not found; pass a checkpoint (.safetensors) or an exported .onnx of this head")
    if path.suffix == ".onnx":
        generator = _onnx_generator(path, head)
    else:
        stored_head, _, generator = load_generator(path)
        if stored_head.name != head.name:
            raise UserError(f"train.teacher: {path} is a {stored_head.name} model, not {head.name}; pass one of this head")
    return generator.eval().requires_grad_(False)


def _onnx_generator(path: Path, head: Any) -> nn.Module:
    from gan_app.runtime.metadata import decode_metadata
    from gan_app.stored import split_model
    from gan_app.train.state import onnx_initializers, read_onnx

    model = read_onnx(path)
    _, meta = decode_metadata({p.key: p.value for p in model.metadata_props}, str(path))
    if meta["head"] != head.name:
        raise UserError(f"train.teacher: {path} is a {meta['head']} model, not {head.name}; pass one of this head")
    fields, _ = split_model(meta["model_config"], head.model_config_cls(), head.loss_config_cls())
    generator, _ = head.build(from_dict(head.model_config_cls(), fields, f"{path.name}: model_config"))
    load_module("G", generator, {f"G.{name}": t for name, t in onnx_initializers(model).items()})
    return generator


class Teacher:
    """`teacher(images)`: the frozen generator's output on (B, C, H, W) `images`, averaged over the first
    `transforms` dihedral transforms (each undone), without gradient: (B, C', H', W')."""

    def __init__(self, generator: nn.Module, transforms: int) -> None:
        if transforms not in CHOICES:
            raise UserError(f"train.teacher_ensemble must be one of {', '.join(map(str, CHOICES))}, got {transforms}")
        self.generator, self.transforms = generator, transforms

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        total = None
        for k in range(self.transforms):
            out = undo_dihedral(self.generator(dihedral(images, k)), k).float()
            total = out if total is None else total + out
        return total / self.transforms
