"""Checkpoint files: every tensor in safetensors, the run's JSON description in its header.

One file rebuilds its model: the header metadata holds one key, `gan_app`, whose value is
JSON with the format version, the head name, the whole run config (model, data, train and
loss sections; older layouts are read by `gan_app.stored`), the step, library versions and
metrics. Tensors are stored under prefixes:

    G.<param>        generator weights and buffers
    G_ema.<param>    EMA generator (absent when EMA is off)
    D.<param>        discriminator (absent in D-less content pretraining)
    opt_g.* opt_d.*  optimizer state tensors, see `flatten_state`

Writes are atomic (temp file in the same folder, fsync, `os.replace`), so a crash or
Ctrl-C during a save never leaves a truncated checkpoint behind; a full disk is a one-line
error. Nothing here unpickles: `torch.load` is never called.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gan_app import __version__
from gan_app.config import RunConfig
from gan_app.errors import UserError, pickle_hint
from gan_app.runtime.files import writing

META_KEY = "gan_app"
FORMAT_VERSION = 1
CHECKPOINT_DIR = "checkpoints"
_STEP_FILE = re.compile(r"^step_(\d+)\.safetensors$")


# --- one file ------------------------------------------------------------------------


def save_checkpoint(path: str | Path, tensors: dict[str, Tensor], meta: dict) -> Path:
    """Write `tensors` and the JSON-able `meta` to `path` atomically; returns `path`.

    `meta` is stamped with `format_version` and library `versions`. Tensors are copied to
    contiguous CPU memory first (safetensors refuses views and shared storage).
    """
    from safetensors.torch import save_file

    path = Path(path)
    stamped = {**meta, "format_version": FORMAT_VERSION, "versions": _versions()}
    header = {META_KEY: json.dumps(stamped, sort_keys=True)}
    cpu = {name: t.detach().to("cpu", copy=True).contiguous() for name, t in tensors.items()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with writing(path):   # a full disk or read-only folder: a one-line UserError naming `path`
            path.parent.mkdir(parents=True, exist_ok=True)
            save_file(cpu, str(tmp), metadata=header)
            with open(tmp, "rb") as fh:  # make the bytes durable before the rename publishes them
                os.fsync(fh.fileno())
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_meta(path: str | Path) -> dict:
    """The JSON description of checkpoint `path` (header only: cheap, no tensors read)."""
    return _open(path, with_tensors=False)[1]


def read_checkpoint(path: str | Path) -> tuple[dict[str, Tensor], dict]:
    """(tensors, meta) of checkpoint `path`; a UserError if it is missing or not ours."""
    return _open(path, with_tensors=True)


def read_shapes(path: str | Path) -> tuple[dict[str, tuple[int, ...]], dict]:
    """(name -> shape of every tensor, meta) of checkpoint `path`, from its header alone (no tensor read)."""
    return _open(path, with_tensors=False, shapes=True)


# JSON type of each header field this library writes; a field of another type is a one-line error
# naming it (the header was edited or corrupted). Fields a reader needs are required where it reads them.
HEADER_TYPES: dict[str, type | tuple[type, ...]] = {
    "format_version": int, "head": str, "run": dict, "step": int, "data": dict, "optimizers": dict,
    "scaler": dict, "rng": dict, "metrics": dict, "interrupted": bool, "versions": dict,
}
RUN_TYPES = {"head": str, "model": dict, "data": dict, "train": dict, "loss": dict}


def _open(path: str | Path, with_tensors: bool, shapes: bool = False) -> tuple[dict, dict]:
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise UserError(f"checkpoint {path} not found; pass a .safetensors file written by `gan-app train`")
    try:
        with safe_open(str(path), framework="pt") as fh:
            header = fh.metadata() or {}
            if shapes:
                tensors = {name: tuple(fh.get_slice(name).get_shape()) for name in fh.keys()}
            else:
                tensors = {name: fh.get_tensor(name) for name in fh.keys()} if with_tensors else {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path} is not a readable safetensors checkpoint ({exc}); it may be truncated or corrupt"
                        + pickle_hint(path)) from None
    if META_KEY not in header:
        raise UserError(f"{path} is a safetensors file but not a gan_app checkpoint (no {META_KEY!r} header entry)")
    try:
        meta = json.loads(header[META_KEY])
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: the gan_app header is not valid JSON ({exc}); the file is corrupt") from None
    if not isinstance(meta, dict):
        raise UserError(f"{path}: the {META_KEY!r} header entry must be a JSON object, got {_json_type(meta)}; the file is corrupt")
    check_header_types(meta, HEADER_TYPES, path, "")
    if isinstance(meta.get("run"), dict):
        check_header_types(meta["run"], RUN_TYPES, path, "run.")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise UserError(f"{path} was written by a newer gan_app (format {meta['format_version']}); upgrade gan-app")
    return tensors, meta


def check_header_types(meta: dict, types: dict, path: Path | str, prefix: str) -> None:
    """A UserError naming `prefix + key` for the first field of `meta` that is not of its JSON type."""
    for key, kind in types.items():
        if key not in meta:
            continue
        value = meta[key]
        wrong = not isinstance(value, kind) or (isinstance(value, bool) and kind is int)
        if not wrong and kind is int and value < 0:
            raise UserError(f"{path}: header field {prefix}{key!r} must be >= 0, got {value}; the file is corrupt")
        if wrong:
            raise UserError(f"{path}: header field {prefix}{key!r} must be {_json_type(kind())}, "
                            f"got {_json_type(value)} {json.dumps(value)[:40]}; the file is corrupt or was edited")


def require_header(meta: dict, key: str, kind: type, path: Path | str, why: str) -> Any:
    """`meta[key]` of JSON type `kind` (a checked header field `why` needs); a UserError naming it otherwise."""
    if key not in meta:
        raise UserError(f"{path}: header field {key!r} is missing; {why}")
    check_header_types(meta, {key: kind}, path, "")
    return meta[key]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", int: "a whole number", float: "a number",
            type(None): "null"}.get(type(value), type(value).__name__)


def _versions() -> dict[str, str]:
    import safetensors

    return {"gan_app": __version__, "torch": torch.__version__, "safetensors": safetensors.__version__}


# --- a run folder --------------------------------------------------------------------


def checkpoint_path(out_dir: str | Path, step: int) -> Path:
    """`out_dir/checkpoints/step_000100.safetensors` (at least 6 digits)."""
    return Path(out_dir) / CHECKPOINT_DIR / f"step_{step:06d}.safetensors"


def list_checkpoints(out_dir: str | Path) -> list[Path]:
    """The step checkpoints of a run folder, oldest first (ordered by step, not by name)."""
    folder = Path(out_dir) / CHECKPOINT_DIR
    found = [(int(m.group(1)), p) for p in folder.glob("step_*.safetensors") if (m := _STEP_FILE.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The newest step checkpoint of a run folder, or None when there is none."""
    found = list_checkpoints(out_dir)
    return found[-1] if found else None


def prune_checkpoints(out_dir: str | Path, keep_last: int) -> list[Path]:
    """Delete all but the newest `keep_last` step checkpoints (0 keeps all); returns the deleted."""
    if keep_last <= 0:
        return []
    old = list_checkpoints(out_dir)[:-keep_last]
    for path in old:
        path.unlink(missing_ok=True)
    return old


# --- state <-> tensors + JSON ----------------------------------------------------------


def module_tensors(prefix: str, module: nn.Module) -> dict[str, Tensor]:
    """`module`'s state dict under `prefix.` (weights and buffers)."""
    return {f"{prefix}.{name}": t for name, t in module.state_dict().items()}


def has_module(prefix: str, tensors: dict[str, Tensor]) -> bool:
    """Whether `tensors` holds a module saved under `prefix`."""
    return any(name.startswith(prefix + ".") for name in tensors)


def load_module(prefix: str, module: nn.Module, tensors: dict[str, Tensor], allow_missing: bool = False) -> list[str]:
    """Load `module` from the tensors under `prefix.`; a UserError if they do not fit.

    `allow_missing`: the module may have tensors the checkpoint lacks (they keep their values);
    returns their names. Unexpected tensors and shape mismatches are always errors.
    """
    cut = len(prefix) + 1
    state = {name[cut:]: t for name, t in tensors.items() if name.startswith(prefix + ".")}
    if allow_missing and not set(state) & set(module.state_dict()):
        raise UserError(f"checkpoint weights {prefix!r} share no tensor with the model built from its config")
    try:
        report = module.load_state_dict(state, strict=not allow_missing)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"checkpoint weights {prefix!r} do not fit the model built from its config: {first}") from None
    if report.unexpected_keys:
        raise UserError(f"checkpoint weights {prefix!r} do not fit the model built from its config: "
                        f"unexpected key(s) {sorted(report.unexpected_keys)[:4]}")
    return sorted(report.missing_keys)


def flatten_state(prefix: str, obj: Any) -> tuple[dict[str, Tensor], Any]:
    """Split a nested state (e.g. `optimizer.state_dict()`) into tensors and a JSON skeleton.

    Tensors become `{"__tensor__": name}` with `name` under `prefix`; dicts with non-string
    keys (optimizer states are keyed by int) and tuples are tagged so `unflatten_state`
    rebuilds them exactly.
    """
    tensors: dict[str, Tensor] = {}

    def walk(x: Any, key: str) -> Any:
        if isinstance(x, Tensor):
            tensors[key] = x
            return {"__tensor__": key}
        if isinstance(x, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in x):
                return {k: walk(v, f"{key}.{k}") for k, v in x.items()}
            return {"__items__": [[k, walk(v, f"{key}.{k}")] for k, v in x.items()]}
        if isinstance(x, tuple):
            return {"__tuple__": [walk(v, f"{key}.{i}") for i, v in enumerate(x)]}
        if isinstance(x, list):
            return [walk(v, f"{key}.{i}") for i, v in enumerate(x)]
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        raise TypeError(f"cannot store a {type(x).__name__} in a checkpoint (at {key})")

    return tensors, walk(obj, prefix)


def unflatten_state(skeleton: Any, tensors: dict[str, Tensor]) -> Any:
    """Inverse of `flatten_state`."""
    if isinstance(skeleton, list):
        return [unflatten_state(v, tensors) for v in skeleton]
    if not isinstance(skeleton, dict):
        return skeleton
    if "__tensor__" in skeleton:
        name = skeleton["__tensor__"]
        if name not in tensors:
            raise UserError(f"checkpoint is missing tensor {name!r}; the file is incomplete")
        return tensors[name]
    if "__items__" in skeleton:
        return {k: unflatten_state(v, tensors) for k, v in skeleton["__items__"]}
    if "__tuple__" in skeleton:
        return tuple(unflatten_state(v, tensors) for v in skeleton["__tuple__"])
    return {k: unflatten_state(v, tensors) for k, v in skeleton.items()}


# --- rebuilding a model from the file alone ----------------------------------------------


def load_generator(path: str | Path, use_ema: bool = True) -> tuple[Any, RunConfig, nn.Module]:
    """(head, run, generator) rebuilt from checkpoint `path` alone, generator in eval mode.

    `use_ema` picks the EMA weights when the checkpoint has them (EMA off: the raw G). The
    declared model config is checked against the stored tensor shapes on the meta device
    before the generator is built for real, so a header claiming a huge model allocates nothing.
    """
    from gan_app.build import compare_shapes, meta_build, state_shapes
    from gan_app.discovery import get_head
    from gan_app.stored import run_from_dict

    shapes, meta = read_shapes(path)
    if "head" not in meta or "run" not in meta:
        raise UserError(f"{path} is a gan_app file without a model description (no head/run); it cannot rebuild a model")
    head = get_head(meta["head"])
    run = run_from_dict(head, meta["run"], path)
    prefix = "G_ema" if use_ema and has_module("G_ema", shapes) else "G"
    built = meta_build(head, run.model, f"{path}: run.model")
    if built is not None:
        cut = len(prefix) + 1
        stored = {name[cut:]: shape for name, shape in shapes.items() if name.startswith(prefix + ".")}
        problem = compare_shapes(state_shapes(built[0]), stored)
        if problem:
            raise UserError(f"{path}: checkpoint weights {prefix!r} do not fit the run.model its header declares "
                            f"({prefix}.{problem}); the header or the tensors were altered")
    tensors, _ = read_checkpoint(path)
    generator, _ = head.build(run.model)
    load_module(prefix, generator, tensors)
    return head, run, generator.eval()
