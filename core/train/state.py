"""A training checkpoint: what it holds, and how a run picks it back up bit for bit.

Tensors: `G.*`, `G_ema.*` (EMA on), `D.*` (adversarial runs) and the optimizer states
`opt_g.*`/`opt_d.*` (flattened by `gan_app.checkpoint.flatten_state`). JSON: the head,
the whole run config, the step, the data stream position (epoch, batch in epoch), the
optimizer skeletons and GradScaler state, how the RNG streams are derived (they are a
function of seed, rank and step, see `gan_app.train.seeding`), and the latest metrics.
"""

from __future__ import annotations

import json
import sys

from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_app.checkpoint import (
    flatten_state,
    has_module,
    load_module,
    module_tensors,
    read_checkpoint,
    require_header,
    save_checkpoint,
    unflatten_state,
)
from gan_app.config import RunConfig, to_dict
from gan_app.errors import UserError
from gan_app.stored import resume_changes
from gan_app.train.seeding import RNG_SCHEME
from gan_app.train.widen import widened_state


def save_training(
    path: Path,
    run: RunConfig,
    step: int,
    data_state: dict,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    scaler: torch.amp.GradScaler,
    metrics: dict,
    interrupted: bool = False,
) -> Path:
    """Write everything needed to continue the run at generator step `step`."""
    tensors = {}
    for prefix, module in modules.items():
        tensors.update(module_tensors(prefix, module))
    skeletons = {}
    for prefix, optimizer in optimizers.items():
        opt_tensors, skeletons[prefix] = flatten_state(prefix, optimizer.state_dict())
        tensors.update(opt_tensors)
    meta = {
        "head": run.head,
        "run": to_dict(run),
        "step": step,
        "data": data_state,
        "optimizers": skeletons,
        "scaler": scaler.state_dict(),
        "rng": {"scheme": RNG_SCHEME, "seed": run.train.seed},
        "metrics": metrics,
        "interrupted": interrupted,
    }
    return save_checkpoint(path, tensors, meta)


def restore_training(
    path: Path,
    run: RunConfig,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    scaler: torch.amp.GradScaler,
) -> tuple[dict, list[str]]:
    """Load modules, optimizers and scaler from checkpoint `path`; returns (its meta, what `run` changes).

    The checkpoint must come from the same head and model config (a UserError names every differing
    `model.*` field); the other sections may differ (more steps, another loss weight), and each
    change is returned as `section.field OLD -> NEW` (`gan_app.stored.resume_changes`).
    """
    tensors, meta = read_checkpoint(path)
    if meta.get("head") != run.head:
        raise UserError(f"--resume: {path} is a {meta.get('head')!r} checkpoint, not {run.head!r}; use another --out")
    check_resume_meta(meta, path)
    changes = resume_changes(meta["run"], run, path)
    missing = [p for p in modules if not has_module(p, tensors)] + [p for p in optimizers if p not in meta.get("optimizers", {})]
    if missing:
        raise UserError(f"--resume: {path} has no {', '.join(missing)} (was it trained with other train.* settings, e.g. EMA or adv_weight?)")
    for prefix, module in modules.items():
        load_module(prefix, module, tensors)
    for prefix, optimizer in optimizers.items():
        optimizer.load_state_dict(unflatten_state(meta["optimizers"][prefix], tensors))
    if scaler.is_enabled() and meta.get("scaler"):
        scaler.load_state_dict(meta["scaler"])
    return meta, changes


def check_resume_meta(meta: dict, path: Path) -> None:
    """A one-line UserError naming the header field --resume needs that is missing or of the wrong
    type: `step`, `data.epoch`, `data.position` (whole numbers >= 0), `run.model`, `optimizers`."""
    why = "--resume needs it; the checkpoint is incomplete or was edited"
    require_header(meta, "step", int, path, why)
    data = require_header(meta, "data", dict, path, why)
    for key in ("epoch", "position"):
        if not isinstance(data.get(key), int) or isinstance(data.get(key), bool) or data[key] < 0:
            raise UserError(f"{path}: header field 'data.{key}' must be a whole number >= 0, got "
                            f"{json.dumps(data.get(key))}; {why}")
    run = require_header(meta, "run", dict, path, why)
    require_header(run, "model", dict, path, why)
    require_header(meta, "optimizers", dict, path, why)


def load_start_weights(path: str | Path, generator: nn.Module, discriminator: nn.Module | None,
                       widen: bool = False) -> None:
    """Start from another run's weights (`train.init_from`): G always, D when that run trained one.

    The typical use is GAN fine-tuning after D-less content pretraining (ESRGAN,
    DeblurGAN); optimizers, step and schedule start fresh. `path` is a training checkpoint
    (.safetensors) or an exported generator (.onnx, whose initializers keep the module names).
    A generator that grew modules the source lacks (e.g. identity-initialised blocks) keeps
    their initialisation, and the run says which; a tensor the model lacks or whose shape
    differs is an error, unless `widen` (`train.init_widen`): then a narrower generator's tensors are
    embedded so that the wider model starts as the same function (gan_app.train.widen).
    """
    if str(path).endswith(".onnx"):
        tensors = {f"G.{k}": v for k, v in onnx_initializers(read_onnx(path)).items()}
    else:
        tensors, _ = read_checkpoint(path)
    if widen:
        narrow = {k[2:]: v for k, v in tensors.items() if k.startswith("G.")}
        tensors = {**tensors, **{f"G.{k}": v for k, v in widened_state(generator, narrow).items()}}
    kept = load_module("G", generator, tensors, allow_missing=True)
    if kept:
        print(f"init_from: {len(kept)} generator tensors not in {Path(path).name} keep their initialisation "
              f"({', '.join(sorted({k.rsplit('.', 2)[0] for k in kept})[:6])}...)", file=sys.stderr)
    if discriminator is not None and has_module("D", tensors):
        load_module("D", discriminator, tensors)


def read_onnx(path: str | Path) -> Any:
    """The exported ONNX model at `path`, parsed (an onnx ModelProto: nothing executed); a one-line UserError
    when the file is not one."""
    import onnx

    try:
        return onnx.load(str(path))
    except Exception as exc:   # onnx raises DecodeError, OSError...: all mean "not a readable model"
        raise UserError(f"{path}: not a readable ONNX model ({type(exc).__name__}); pass a .safetensors or .onnx") from None


def onnx_initializers(model: Any) -> dict[str, torch.Tensor]:
    """Named weights of a parsed ONNX generator (`read_onnx`; onnx.numpy_helper: plain arrays)."""
    from onnx import numpy_helper

    return {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
