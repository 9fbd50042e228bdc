"""Load an exported gan_app model into ONNX Runtime and run it.

`load_model("deblur")` opens the head's shipped weights; `load_model("my.onnx")` any
exported file. The file's own metadata (see `metadata.py`) is validated on load, so a
wrong or corrupt file fails with one clear line instead of a shape error later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from gan_app.errors import UserError, pickle_hint
from gan_app.head import GraphSpec
from gan_app.limits import check_threads
from gan_app.paths import find_model, model_card, shipped_model, user_model
from gan_app.runtime.metadata import check_inputs_match, decode_metadata

_NUMPY_DTYPES = {"float32": np.float32, "float16": np.float16, "int64": np.int64, "int32": np.int32}


def pick_providers(requested: list[str] | None = None) -> list[str]:
    """Execution providers: `requested` if given, else CUDA when this ONNX Runtime has it, then CPU."""
    available = ort.get_available_providers()
    if requested:
        unknown = [p for p in requested if p not in available]
        if unknown:
            raise UserError(f"ONNX Runtime provider(s) {unknown} not available here; available: {available}")
        return list(requested)
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


@dataclass
class OnnxModel:
    """An exported generator in an ONNX Runtime session, with its gan_app description.

    `spec` says what `run` takes (inputs by name, kind and dtype; image value range,
    scale, size multiple); `meta` is the decoded metadata; `card` the JSON model card
    beside the file (None when absent).
    """

    path: Path
    session: ort.InferenceSession
    spec: GraphSpec
    meta: dict
    card: dict | None = None
    providers: list[str] = field(default_factory=list)

    @property
    def head(self) -> str:
        return self.meta["head"]

    def require_head(self, head: str, kind: str) -> None:
        """A UserError unless this is a `head` model (`kind` names it in the message, e.g. "deblur")."""
        if self.head != head:
            raise UserError(f"{self.path.name} is a {self.head!r} model, not a {kind} one; use `gan-app run {self.head}`")

    def image_input(self) -> str | None:
        """Name of the one image input, or None for heads that take no image."""
        names = [i.name for i in self.spec.inputs if i.kind == "image"]
        return names[0] if len(names) == 1 else None

    def image_channels(self) -> int:
        """Channels the image input takes: its declared shape, else `spec.out_channels`."""
        shape = next(i.shape for i in self.spec.inputs if i.kind == "image")
        return shape[1] if len(shape) > 1 and isinstance(shape[1], int) else self.spec.out_channels

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        """The generator output for `feeds` (one array per spec input, batch first)."""
        expected = {i.name: i for i in self.spec.inputs}
        if set(feeds) != set(expected):
            raise UserError(
                f"model {self.path.name} takes inputs {sorted(expected)}, got {sorted(feeds)}"
            )
        batches = {np.shape(value)[0] for value in feeds.values()}
        if len(batches) != 1:
            raise UserError(f"all inputs need the same batch size, got {sorted(batches)}")
        prepared = {
            name: np.ascontiguousarray(value, dtype=_NUMPY_DTYPES.get(expected[name].dtype, np.float32))
            for name, value in feeds.items()
        }
        return self.session.run(None, prepared)[0]


def load_model(
    name_or_path: str | Path,
    *,
    providers: list[str] | None = None,
    threads: int | None = None,
) -> OnnxModel:
    """An `OnnxModel` from a head name (its shipped weights) or an `.onnx` path.

    `threads` sets ONNX Runtime's intra-op thread count (None: its default, all cores).
    """
    path = _resolve(name_or_path)
    options = ort.SessionOptions()
    if threads is not None:
        check_threads(threads, "--threads")
        options.intra_op_num_threads = threads
    chosen = pick_providers(providers)
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=chosen)
    except Exception as exc:  # ORT raises its own exception types for unreadable files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path} is not a readable ONNX model ({reason[:200]}); check the file or re-export it"
                        + pickle_hint(path, "onnx")) from None
    spec, meta = decode_metadata(session.get_modelmeta().custom_metadata_map, str(path))
    check_inputs_match(spec, session.get_inputs(), str(path))
    return OnnxModel(path, session, spec, meta, _read_card(path), session.get_providers())


def is_model_path(name_or_path: str | Path) -> bool:
    """Whether `name_or_path` names a file (an `.onnx`, an existing file, anything with a separator)
    rather than a model by name."""
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    return candidate.suffix.lower() == ".onnx" or candidate.exists() or "/" in text or "\\" in text


def _resolve(name_or_path: str | Path) -> Path:
    """A path as given, or the model called `name_or_path`: the user model, else the shipped weights."""
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    if is_model_path(name_or_path):
        if not candidate.is_file():
            raise UserError(f"model file {candidate} does not exist")
        return candidate
    found = find_model(text)
    if found is None:
        raise UserError(
            f"head {text!r} has no shipped weights nor user model (looked for {shipped_model(text)} and "
            f"{user_model(text)}); export one with `gan-app export {text} --checkpoint CKPT` (installs it as a "
            f"user model) or pass --model FILE.onnx"
        )
    return found


def _read_card(path: Path) -> dict | None:
    """The JSON model card beside `path`, or None (a card is informative, never required)."""
    card = model_card(path)
    if not card.is_file():
        return None
    try:
        return json.loads(card.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
