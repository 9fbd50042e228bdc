"""Dataclass configs: one `TrainConfig` for the engine, one model/data config per head.

A run is `RunConfig(head, model, data, train)`. Command-line `--set a.b=v` overrides
are checked against the dataclass fields and converted to the field's type, so a typo
is a clear error instead of a silently ignored flag. Configs round-trip through JSON,
which is how checkpoints and ONNX files describe themselves.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from typing import Any

from .errors import UserError


@dataclass
class TrainConfig:
    """Options of the one training engine, common to every head."""

    steps: int = 10_000              # generator steps
    batch_size: int = 16             # per process (global batch = batch_size * world size)
    n_critic: int = 1                # discriminator steps per generator step
    optimizer: str = "adam"          # adam | rmsprop
    lr_g: float = 2e-4
    lr_d: float = 2e-4               # TTUR: separate learning rates
    betas: tuple[float, float] = (0.5, 0.999)
    lr_schedule: str = "constant"    # constant | linear (linear decay to 0 over decay_start..steps)
    decay_start: int = 0             # step at which linear decay begins
    loss: str = "nonsaturating"      # adversarial game, see gan_app.losses.adversarial.GAMES
    label_smoothing: float = 1.0     # one-sided: positive target for real (1.0 = off)
    gp_weight: float = 0.0           # WGAN-GP gradient penalty weight
    r1_weight: float = 0.0           # R1 penalty weight (gamma)
    clip: float = 0.0                # WGAN weight clipping of D (0 = off)
    adv_weight: float = 1.0          # weight of the adversarial term in the G loss (0 = pure content training)
    ema_decay: float = 0.999         # EMA of generator weights (0 = off)
    ema_start: int = 0               # step from which EMA averages (before: copies G)
    ema_bn_batches: int = 16         # batches re-estimating the EMA G's batch-norm statistics before use (0: G's)
    amp: str = "auto"                # auto | bf16 | fp16 | off (never fp16 on CPU)
    channels_last: bool = True       # on CUDA only
    compile: bool = False            # opt-in torch.compile
    sync_bn: bool = False            # SyncBatchNorm under DDP
    device: str = "auto"             # auto | cuda | mps | cpu
    seed: int = 0
    num_workers: int = 0
    cpu_threads: int = 0             # torch intra-op CPU threads (0 = torch's default; 1 is fastest for tiny models)
    log_every: int = 50
    sample_every: int = 500
    ckpt_every: int = 1000
    keep_last: int = 3
    eval_every: int = 0
    init_from: str = ""              # checkpoint whose G (and D, if it has one) start this run, e.g. after content pretraining


@dataclass
class RunConfig:
    """Everything one training run needs; stored whole in every checkpoint."""

    head: str
    model: Any
    data: Any
    train: TrainConfig = field(default_factory=TrainConfig)


def to_dict(cfg: Any) -> dict:
    """A dataclass (possibly nested) as plain JSON-able data."""
    return dataclasses.asdict(cfg)


def from_dict(cls: type, data: dict) -> Any:
    """Rebuild dataclass `cls` from `to_dict` output; unknown keys are an error."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise UserError(f"unknown {cls.__name__} field(s) {sorted(unknown)}; valid: {sorted(names)}")
    kwargs = {}
    for key, value in data.items():
        kwargs[key] = _coerce(hints[key], value, key)
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, name: str) -> Any:
    """Convert a JSON value to field type `tp` (handles nested dataclasses and tuples)."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return from_dict(tp, value)
    if origin is tuple and isinstance(value, (list, tuple)):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, name) for v in value)
        return tuple(_coerce(a, v, name) for a, v in zip(args, value))
    if origin is typing.Union or str(origin) == "types.UnionType":
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _coerce(args[0], value, name)
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def parse_value(tp: Any, text: str, name: str) -> Any:
    """Parse command-line text `text` as a value of field type `tp`."""
    origin = typing.get_origin(tp)
    try:
        if tp is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if tp in (int, float, str):
            return tp(text)
        if origin is tuple or origin is list or (origin is typing.Union or str(origin) == "types.UnionType"):
            if text.lower() in ("none", "null") and type(None) in typing.get_args(tp):
                return None
            return _coerce(tp, json.loads(text if text.startswith("[") else f"[{text}]"), name)
    except (ValueError, json.JSONDecodeError):
        raise UserError(f"--set {name}={text}: cannot read {text!r} as {getattr(tp, '__name__', tp)}") from None
    return json.loads(text)


def apply_overrides(run: RunConfig, overrides: list[str]) -> RunConfig:
    """Apply `section.field=value` strings to `run` in place (sections: model, data, train).

    Example: `apply_overrides(run, ["train.steps=100", "model.width=32"])`.
    """
    for item in overrides:
        if "=" not in item:
            raise UserError(f"--set {item!r}: expected SECTION.FIELD=VALUE, e.g. train.steps=100")
        key, text = item.split("=", 1)
        section_name, _, field_name = key.strip().partition(".")
        if section_name not in ("model", "data", "train") or not field_name:
            raise UserError(f"--set {key!r}: the key must start with model., data. or train.")
        section = getattr(run, section_name)
        hints = typing.get_type_hints(type(section))
        if field_name not in hints:
            valid = ", ".join(f.name for f in dataclasses.fields(section))
            raise UserError(f"--set {key!r}: no such field; {section_name} fields are: {valid}")
        setattr(section, field_name, parse_value(hints[field_name], text.strip(), key))
    return run


def dumps(run: RunConfig) -> str:
    """JSON text of a run config (stable key order)."""
    return json.dumps(to_dict(run), sort_keys=True)
