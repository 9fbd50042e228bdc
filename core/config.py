"""Dataclass configs: one `TrainConfig` for the engine, one model/data/loss config per head.

A run is `RunConfig(head, model, data, train, loss)`: `model` is the architecture alone (what
a checkpoint's weights fit, what `--resume` may not change), `loss` the head's loss weights and
choices (`EmptyLossConfig` for a head without any). Command-line `--set a.b=v` overrides
are checked against the dataclass fields and converted to the field's type, so a typo
is a clear error instead of a silently ignored flag. Configs round-trip through JSON,
which is how checkpoints and ONNX files describe themselves.

Every value that enters (a `--set` override, a checkpoint header's config) is checked
where it enters, with the field named in a one-line `UserError`: its JSON type (a tuple
field has exactly its length), floats finite, and the field's range. Ranges come from
`field(metadata={"range": Range(...)})` when a dataclass declares one, else from the
shared rules by field name below (`width`, `crop`, `*_weight`, ...), else: whole numbers
are >= 0 (every int field of a config is a count or a size).

A config dataclass's defaults are also what a stored file that lacks a field means (a field added
after files were written reads its default), so a field's default is the behaviour before it
existed and is not changed later; what a recipe trains, it states in full.
"""

from __future__ import annotations

import dataclasses
import json
import math
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
    lr_schedule: str = "constant"    # constant | linear | cosine (decay towards 0 over decay_start..steps)
    decay_start: int = 0             # step at which the decay begins
    warmup_steps: int = 0            # linear warm-up of both rates over the first steps (0 = off)
    grad_clip: float = 0.0           # max global L2 norm of each player's gradients per step (0 = off)
    loss: str = "nonsaturating"      # adversarial game, see gan_app.losses.adversarial.GAMES
    label_smoothing: float = 1.0     # one-sided: positive target for real (1.0 = off)
    gp_weight: float = 0.0           # WGAN-GP gradient penalty weight
    r1_weight: float = 0.0           # R1 penalty weight (gamma)
    feature_matching_weight: float = 0.0      # G also matches the mean critic features of real data (Salimans et al.; 0 = off)
    historical_averaging_weight: float = 0.0  # both players: penalty on parameters' distance to their running mean (0 = off)
    clip: float = 0.0                # WGAN weight clipping of D (0 = off)
    adv_weight: float = 1.0          # weight of the adversarial term in the G loss (0 = pure content training)
    ema_decay: float = 0.999         # EMA of generator weights (0 = off)
    ema_start: int = 0               # step from which EMA averages (before: copies G)
    ema_bn_batches: int = 16         # batches re-estimating the EMA G's batch-norm statistics before use (0: G's)
    amp: str = "auto"                # auto | bf16 | fp16 | off (never fp16 on CPU)
    channels_last: bool = True       # NHWC convolutions on CUDA and CPU (faster on both, see train/devices.py)
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
    init_widen: bool = False         # init_from a narrower G (e.g. model.width 32 -> 48): start as its function (train/widen.py)
    teacher: str = ""                # distillation (train/teacher.py): a trained G of this head (checkpoint or .onnx), frozen;
    teacher_ensemble: int = 4        # its output averaged over this many flips/transposes (1, 2, 4, 8) is a second target
    teacher_share: float = 0.5       # weight of the teacher's target in the content terms (the ground truth's: 1 - it)


@dataclass
class EmptyLossConfig:
    """The loss section of a head that declares no loss settings (`Head.loss_config_ref` unset)."""


@dataclass
class RunConfig:
    """Everything one training run needs; stored whole in every checkpoint and in the run's config.json."""

    head: str
    model: Any
    data: Any
    train: TrainConfig = field(default_factory=TrainConfig)
    loss: Any = field(default_factory=EmptyLossConfig)


SECTIONS = ("model", "data", "train", "loss")   # the RunConfig fields `--set SECTION.FIELD=...` reaches
# Config fields renamed since files were written: old name -> new name, in the model and loss sections
# (stored files are read with the new name, see `gan_app.stored`; `--set` with the old name says the new one).
RENAMED_FIELDS = {"perceptual_weights": "vgg_weights"}


@dataclass(frozen=True)
class Range:
    """Numbers a config field accepts: lo <= x <= hi (None: unbounded; `*_open`: strict)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, x: float) -> bool:
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        return self.hi is None or (x < self.hi if self.hi_open else x <= self.hi)

    def __str__(self) -> str:
        if self.hi is None:
            return f"{'>' if self.lo_open else '>='} {self.lo:g}"
        if self.lo is None:
            return f"{'<' if self.hi_open else '<='} {self.hi:g}"
        return f"in {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"


POSITIVE = Range(1)
NON_NEGATIVE = Range(0.0)
PROBABILITY = Range(0.0, 1.0)

# Rules by field name shared by every config dataclass (the engine's and the heads'); a field's
# own `metadata={"range": ...}` wins. Sizes and counts that cannot be 0:
NAMED_RANGES: dict[str, Range] = {
    **dict.fromkeys((
        "steps", "batch_size", "n_critic", "width", "g_width", "d_width", "levels", "crop", "kernel_size",
        "z_dim", "channels", "in_channels", "out_channels", "resolution", "scale", "expansion", "growth",
        "embed_dim", "vocab_size", "max_tokens", "word_dim", "text_hidden", "text_dim", "proj_dim",
        "epoch_size", "size", "modes", "num_classes",
    ), POSITIVE),
    **dict.fromkeys(("clip", "grad_clip", "noise", "sigma", "radius"), NON_NEGATIVE),
    **dict.fromkeys(("realistic", "dropout"), PROBABILITY),
    "ema_decay": Range(0.0, 1.0, hi_open=True),
    "betas": Range(0.0, 1.0, hi_open=True),           # each element
    "label_smoothing": Range(0.0, 1.0, lo_open=True),
}
SUFFIX_RANGES = (("_weight", NON_NEGATIVE), ("_prob", PROBABILITY), ("_share", PROBABILITY), ("_length", NON_NEGATIVE),
                 ("_roll", NON_NEGATIVE))
PREFIX_RANGES = (("lr_", NON_NEGATIVE),)
NONEMPTY = frozenset({"path"})   # str fields `--set` may not make "" (a recipe may leave them empty for --data)


class _Invalid(ValueError):
    """A value that does not fit its field; the message says why, the caller says where."""


def field_range(f: dataclasses.Field, tp: Any) -> Range | None:
    """The range field `f` (of type `tp`) accepts: declared, by name, or >= 0 for whole numbers."""
    if "range" in f.metadata:
        return f.metadata["range"]
    if f.name in NAMED_RANGES:
        return NAMED_RANGES[f.name]
    for suffix, rule in SUFFIX_RANGES:
        if f.name.endswith(suffix):
            return rule
    for prefix, rule in PREFIX_RANGES:
        if f.name.startswith(prefix):
            return rule
    return NON_NEGATIVE if _numbers_of(tp) is int else None


def _numbers_of(tp: Any) -> type | None:
    """int or float when `tp` is that number type, a tuple of it or an Optional of it; else None."""
    if tp in (int, float):
        return tp
    args = [a for a in typing.get_args(tp) if a is not Ellipsis and a is not type(None)]
    kinds = {_numbers_of(a) for a in args}
    return kinds.pop() if len(kinds) == 1 else None


def check_field(f: dataclasses.Field, tp: Any, value: Any) -> None:
    """An `_Invalid` unless the (already typed) `value` is in field `f`'s range."""
    rule = field_range(f, tp)
    if rule is None or value is None or isinstance(value, bool):
        return
    numbers = value if isinstance(value, tuple) else (value,)
    for x in numbers:
        if isinstance(x, (int, float)) and not isinstance(x, bool) and x not in rule:
            raise _Invalid(f"must be {rule}, got {x!r}")


def check_section(cfg: Any, where: str) -> None:
    """A UserError naming `where.field` for the first field of dataclass `cfg` outside its rules."""
    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        try:
            check_field(f, hints[f.name], _coerce(hints[f.name], getattr(cfg, f.name)))
        except _Invalid as exc:
            raise UserError(f"{where}.{f.name} {exc}") from None


def to_dict(cfg: Any) -> dict:
    """A dataclass (possibly nested) as plain JSON-able data."""
    return dataclasses.asdict(cfg)


def from_dict(cls: type, data: Any, where: str | None = None) -> Any:
    """Rebuild dataclass `cls` from `to_dict` output, every value typed and checked.

    Unknown keys, wrong JSON types and values outside a field's rules are a UserError naming
    `where.field` (`where` defaults to the class name).
    """
    where = where or cls.__name__
    if not isinstance(data, dict):
        raise UserError(f"{where} must be a JSON object of {cls.__name__} fields, got {_show(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise UserError(f"{where}: unknown {cls.__name__} field(s) {sorted(unknown)}; valid: {sorted(fields)}")
    kwargs = {}
    for key, value in data.items():
        try:
            kwargs[key] = _coerce(hints[key], value, f"{where}.{key}")
            check_field(fields[key], hints[key], kwargs[key])
        except _Invalid as exc:
            raise UserError(f"{where}.{key} {exc}") from None
    return cls(**kwargs)


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (dict, list, str, int, float, bool, type(None))) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(tp: Any) -> str:
    """`tp` in words, for error messages."""
    if tp is bool:
        return "true or false"
    if tp is int:
        return "a whole number"
    if tp is float:
        return "a finite number"
    if tp is str:
        return "a string"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return f"a list of {_describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is tuple and len(set(args)) == 1:
        return f"a list of {len(args)} {_describe(args[0]).removeprefix('a ')}s"
    if origin is tuple:
        return f"a list of {len(args)} values ({', '.join(_describe(a) for a in args)})"
    if dataclasses.is_dataclass(tp):
        return f"a JSON object of {tp.__name__} fields"
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, where: str = "") -> Any:
    """`value` (JSON data) as field type `tp`; an `_Invalid` when it is not one."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise _Invalid(f"must be {_describe(tp)}, got {_show(value)}")
        return from_dict(tp, value, where)
    if origin is typing.Union or str(origin) == "types.UnionType":
        inner = [a for a in args if a is not type(None)]
        if value is None and len(inner) < len(args):
            return None
        return _coerce(inner[0], value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _Invalid(f"must be {_describe(tp)}, got {_show(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, where) for v in value)
        if len(value) != len(args):
            raise _Invalid(f"must be {_describe(tp)}, got {len(value)}: {_show(list(value))}")
        return tuple(_coerce(a, v, where) for a, v in zip(args, value))
    if tp is bool:
        if not isinstance(value, bool):
            raise _Invalid(f"must be true or false, got {_show(value)}")
        return value
    if tp is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid(f"must be a whole number, got {_show(value)}")
        return value
    if tp is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _Invalid(f"must be a finite number, got {_show(value)}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise _Invalid(f"must be a finite number, got {value!r}")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise _Invalid(f"must be a string, got {_show(value)}")
        return value
    return value


def parse_value(tp: Any, text: str, name: str) -> Any:
    """Parse command-line text `text` as a value of field type `tp` (an `_Invalid` if it is not one).

    Numbers and strings are read as such; tuples as JSON lists (`[0.5, 0.99]`, brackets optional);
    `none`/`null` is None for Optional fields.
    """
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise _Invalid(f"must be true or false, got {text!r}")
    if tp in (int, float):
        try:
            return _coerce(tp, tp(text))
        except ValueError as exc:
            if isinstance(exc, _Invalid):
                raise
            raise _Invalid(f"must be {_describe(tp)}, got {text!r}") from None
    if tp is str:
        return text
    if origin is typing.Union or str(origin) == "types.UnionType":
        if text.lower() in ("none", "null") and type(None) in args:
            return None
        return parse_value(next(a for a in args if a is not type(None)), text, name)
    try:  # `0.5,0.9` (no brackets) is a list too; so is `3` for a tuple of any length
        data = json.loads(text)
    except json.JSONDecodeError:
        data = _Invalid
    variadic = len(args) == 2 and args[1] is Ellipsis
    if origin is tuple and (data is _Invalid or (variadic and isinstance(data, (int, float, str)))):
        try:
            data = json.loads(f"[{text}]")
        except json.JSONDecodeError:
            pass
    if data is _Invalid:
        raise _Invalid(f"must be {_describe(tp)} (a JSON list), got {text!r}")
    return _coerce(tp, data, name)


def apply_overrides(run: RunConfig, overrides: list[str]) -> RunConfig:
    """Apply `section.field=value` strings to `run` in place (sections: model, data, train, loss).

    Each value is typed and checked against its field's rules (see the module docstring).
    Example: `apply_overrides(run, ["train.steps=100", "model.width=32"])`.
    """
    for item in overrides:
        if "=" not in item:
            raise UserError(f"--set {item!r}: expected SECTION.FIELD=VALUE, e.g. train.steps=100")
        key, text = item.split("=", 1)
        key, text = key.strip(), text.strip()
        section_name, _, field_name = key.partition(".")
        if section_name not in SECTIONS or not field_name:
            raise UserError(f"--set {key!r}: the key must start with model., data., train. or loss.")
        section = getattr(run, section_name)
        hints = typing.get_type_hints(type(section))
        fields = {f.name: f for f in dataclasses.fields(section)}
        if field_name not in fields:
            raise UserError(f"--set {key!r}: no such field; {_elsewhere(run, section_name, field_name)}"
                            f"{section_name} fields are: {', '.join(fields) or 'none'}")
        try:
            value = parse_value(hints[field_name], text, key)
            if field_name in NONEMPTY and value == "":
                raise _Invalid("must not be empty")
            check_field(fields[field_name], hints[field_name], value)
        except _Invalid as exc:
            raise UserError(f"--set {key}={text}: {key} {exc}") from None
        setattr(section, field_name, value)
    return run


def _elsewhere(run: RunConfig, section_name: str, field_name: str) -> str:
    """`it is loss.content_weight now; ` when the field (or its new name) is in another section or renamed, else ""."""
    name = RENAMED_FIELDS.get(field_name, field_name)
    for other in SECTIONS:
        if (other, name) != (section_name, field_name) and name in {f.name for f in dataclasses.fields(getattr(run, other))}:
            return f"it is {other}.{name} now; "
    return ""
