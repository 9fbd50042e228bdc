"""Discovery of heads: which heads are installed, and the one called by a given name.

Three sources, in this order of precedence (an earlier one is never shadowed by a later one):
built-in heads (`apps/<name>/head.py` exposing `HEAD`, found on disk), third-party heads (the
`gan_app.heads` entry-point group), and named user models (cards in the user model folder whose
`base_head` is an installed head; each is listed as `as_named(name)` of that head).

Discovery is lazy and fault-tolerant: a head is imported only when loaded, and one whose import
fails is listed as unavailable with the reason; it never breaks the others. What a head IS (the
contract every head implements) lives in `gan_app.head`.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from .errors import UserError
from .head import Head

ENTRY_POINT_GROUP = "gan_app.heads"
BUILTIN_PACKAGE = "gan_app.apps"


MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_model_name(name: str, base: str) -> None:
    """A UserError unless `name` can name a model of head `base`: a plain file-safe
    identifier that is not another head's name or verb (it would shadow that head)."""
    if not MODEL_NAME.match(name):
        raise UserError(f"model name {name!r} must be lowercase letters, digits, '-' or '_' (at most 64), e.g. colorize")
    if name == base:
        return
    for entry in _builtin_entries() + _entry_point_entries():
        head = entry.load()
        if name in (entry.name, head.verb if head is not None else None):
            raise UserError(f"model name {name!r} is taken by the head {entry.name!r}; choose another --name")


@dataclass
class HeadEntry:
    """A discovered head: loaded lazily, or unavailable with the reason."""

    name: str
    source: str                     # "builtin" or the distribution that provides it
    _loader: Callable[[], Any]
    _head: Head | None = None
    error: str | None = None

    def load(self) -> Head | None:
        """The head object, or None (and `error` set) if it cannot be imported."""
        if self._head is None and self.error is None:
            try:
                obj = self._loader()
                head = obj() if isinstance(obj, type) else obj
                if not isinstance(head, Head):
                    raise TypeError(f"{obj!r} is not a gan_app.head.Head")
                self._head = head
            except Exception as exc:  # a broken head must never break the others
                self.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return self._head


def _builtin_entries() -> list[HeadEntry]:
    """Every `gan_app/apps/<name>/head.py`: found on disk, imported only when loaded."""
    try:
        package = importlib.import_module(BUILTIN_PACKAGE)
    except ImportError:
        return []
    entries = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg and any((Path(p) / info.name / "head.py").is_file() for p in package.__path__):
            module_name = f"{BUILTIN_PACKAGE}.{info.name}.head"
            entries.append(HeadEntry(info.name, "builtin", lambda m=module_name: importlib.import_module(m).HEAD))
    return entries


def _entry_point_entries() -> list[HeadEntry]:
    entries = []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        entries.append(HeadEntry(ep.name, dist.name if dist else "entry point", ep.load))
    return entries


def _user_model_entries() -> list[HeadEntry]:
    """Named models in the user model folder: `<name>.json` cards with `head == name` and a `base_head`.

    Only the JSON cards are read (cheap, no ONNX Runtime); the base head loads lazily.
    """
    from .paths import user_models_dir

    entries = []
    for card_path in sorted(user_models_dir().glob("*.json")):
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a card; the folder is the user's
        name, base = card_path.stem, card.get("base_head") if isinstance(card, dict) else None
        if base and base != name and card.get("head") == name and card_path.with_suffix(".onnx").is_file():
            entries.append(HeadEntry(name, f"user model, {base}", lambda b=base, n=name: _load_base(b).as_named(n)))
    return entries


def _load_base(base: str) -> Head:
    entry = next((e for e in _builtin_entries() + _entry_point_entries() if e.name == base), None)
    head = entry.load() if entry is not None else None
    if head is None:
        raise LookupError(f"its base head {base!r} is " + (entry.error if entry is not None else "not installed"))
    return head


def discover_heads() -> dict[str, HeadEntry]:
    """All heads: built-in ones (apps/<name>/head.py exposing HEAD), entry points, named user models.

    Keyed by the head's registry name; a third-party head cannot shadow a built-in one,
    and a user model cannot shadow either.
    """
    heads: dict[str, HeadEntry] = {}
    for entry in _builtin_entries() + _entry_point_entries() + _user_model_entries():
        heads.setdefault(entry.name, entry)
    return heads


def head_name(name: str, heads: dict[str, "HeadEntry"] | None = None) -> str:
    """The registry name of the head called `name` or whose verb is `name` (`upscale` -> `superres`);
    `name` itself when no installed head answers to it (a model's own metadata may still name it).
    `heads`: a `discover_heads()` result to reuse (default: discover now)."""
    heads = discover_heads() if heads is None else heads
    if name in heads:
        return name
    for key, entry in heads.items():
        head = entry.load()
        if head is not None and head.verb == name:
            return key
    return name


def get_head(name: str) -> Head:
    """The head called `name`, or a UserError listing the available ones."""
    heads = discover_heads()
    entry = heads.get(name)
    if entry is None:
        for candidate in heads.values():  # also accept the inference verb
            head = candidate.load()
            if head is not None and head.verb == name:
                return head
        raise UserError(f"unknown head {name!r}; available: {', '.join(sorted(heads)) or 'none'} (see `gan-app heads`)")
    head = entry.load()
    if head is None:
        raise UserError(f"head {name!r} is unavailable: {entry.error}")
    return head
