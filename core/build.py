"""A head's models built from a config on torch's `meta` device first: shapes, no memory.

A model config that arrives through `--set` or a checkpoint header has typed, in-range
fields (`gan_app.config`), yet a head's builder may still refuse it (an unknown generator
name, an unsupported number of levels): builders raise ValueError. `meta_build` runs the
builder on the meta device, so that refusal comes before any real weights exist and
becomes a one-line UserError naming the field; the meta models also give the tensor
shapes a config implies, which a checkpoint's stored tensors are compared with before
its model is built for real (a header claiming `width=4000` never allocates it).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from gan_app.errors import UserError


def meta_build(head: Any, model_cfg: Any, where: str = "model") -> tuple[Any, Any] | None:
    """(generator, discriminator) of `head` for `model_cfg` on the meta device.

    A ValueError of the builder is a UserError `where.FIELD: reason` (the field its message
    names). None when the builder cannot run on the meta device (some op lacks a meta kernel):
    then nothing could be checked and the caller builds for real as before.
    """
    import torch

    try:
        with torch.device("meta"):
            return head.build(model_cfg)
    except ValueError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"{blame(model_cfg, reason, where)}: {reason}") from None
    except (NotImplementedError, RuntimeError):
        return None


def check_model_config(head: Any, model_cfg: Any, where: str = "model") -> None:
    """A one-line UserError if `head` cannot build `model_cfg` (see `meta_build`)."""
    meta_build(head, model_cfg, where)


def blame(cfg: Any, message: str, where: str) -> str:
    """`where.field` for the one field of dataclass `cfg` that `message` names (by name and by
    showing its value, else by either); `where (a, b)` when several could be meant; `where` when none."""
    if not dataclasses.is_dataclass(cfg):
        return where
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message))
    named = [f.name for f in dataclasses.fields(cfg) if f.name in words]
    shown = [f.name for f in dataclasses.fields(cfg) if _shows(message, getattr(cfg, f.name))]
    both = [n for n in named if n in shown]
    quoted = [n for n in shown if isinstance(getattr(cfg, n), str)]  # a number alone says too little
    for candidates in (both, named, quoted):
        if len(candidates) == 1:
            return f"{where}.{candidates[0]}"
    candidates = both or named or quoted
    return f"{where} ({', '.join(candidates)})" if candidates else where


def _shows(message: str, value: Any) -> bool:
    """Whether `message` quotes string `value` or says `got VALUE` for a number."""
    if isinstance(value, str):
        return repr(value) in message
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return re.search(rf"\bgot {re.escape(str(value))}(?=$|[\s,;)])", message) is not None
    return False


def state_shapes(module: Any) -> dict[str, tuple[int, ...]]:
    """name -> shape of every tensor in `module`'s state dict (meta or real)."""
    return {name: tuple(t.shape) for name, t in module.state_dict().items()}


def compare_shapes(expected: dict[str, tuple], stored: dict[str, tuple]) -> str | None:
    """None when `stored` has exactly the tensors and shapes of `expected`; else the first difference."""
    for name, shape in expected.items():
        if name not in stored:
            return f"{name} is missing"
        if tuple(stored[name]) != shape:
            return f"{name} is {list(stored[name])} in the file but {list(shape)} for the declared config"
    extra = sorted(set(stored) - set(expected))
    return f"{extra[0]} is not in the declared model" if extra else None
