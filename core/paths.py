"""One resolver for shipped weights, user models and caches; nothing is relative to the working directory.

Shipped weights live in the `gan_app.weights` package (`weights/<head>/<head>-v<N>.onnx`
in the repository; the newest version is the head's default). `GAN_APP_WEIGHTS` points the resolver at another folder with the
same layout, e.g. a team's own model store.

User models are what `gan-app export HEAD --checkpoint CKPT` writes when no `-o` is given:
`<home>/models/<name>.onnx` plus its card `<name>.json`, where `<home>` is `$GAN_APP_HOME`,
else `$XDG_DATA_HOME/gan-app`, else `~/.local/share/gan-app`. A named model (e.g. a paired
model trained with `--name colorize`) becomes a head there: `gan-app run colorize photo.png`.
A user model of a name takes precedence over the shipped weights of that name.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

WEIGHTS_ENV = "GAN_APP_WEIGHTS"
HOME_ENV = "GAN_APP_HOME"
CLASSIFIER_FILE = "classifier-v1.safetensors"   # a head's shipped domain classifier, beside its ONNX model


def weights_root() -> Path:
    """The folder that holds `<head>/<head>-v<N>.onnx` files."""
    override = os.environ.get(WEIGHTS_ENV)
    if override:
        return Path(override).expanduser()
    return Path(str(resources.files("gan_app.weights")))


def shipped_model(name: str, variant: str | None = None) -> Path:
    """Path of a shipped ONNX model (may not exist: callers check).

    `name` is a head (`deblur` -> its newest version, `deblur/deblur-v2.onnx` when both `-v1` and `-v2`
    are shipped: a better default replaces none of the files users may name) or the full name of one of
    the models a head ships (`deblur-v1`, `superres-x4-gan` -> `superres/superres-x4-gan.onnx`).
    With `variant`, the head's file of that name: (`superres`, `x4-gan`) -> `superres/superres-x4-gan.onnx`.
    """
    if variant is not None:
        return weights_root() / name / f"{name}-{variant}.onnx"
    pattern = re.compile(rf"{re.escape(name)}-v(\d+)")
    versions = [(int(m.group(1)), p) for p in (weights_root() / name).glob(f"{name}-v*.onnx")
                if (m := pattern.fullmatch(p.stem))]
    if versions:
        return max(versions)[1]
    named = sorted(weights_root().glob(f"*/{name}.onnx"))
    return named[0] if named else weights_root() / name / f"{name}-v1.onnx"


BLUR_ESTIMATOR_FILE = "blur-extent.estimator.onnx"   # the `.estimator` part keeps it out of `models_of`


def shipped_blur_estimator() -> Path:
    """Path of the blur-extent estimator behind `--blur-scale auto` (gan_app.runtime.blur_extent), shipped
    beside the deblur models whose synthesis it was trained on (may not exist: callers check)."""
    return weights_root() / "deblur" / BLUR_ESTIMATOR_FILE


def shipped_classifier(head: str) -> Path:
    """Path of the domain classifier `head` ships to judge its samples: `<head>/classifier-v1.safetensors`
    (gan_app.metrics.domain_classifier; may not exist: callers check)."""
    return weights_root() / head / CLASSIFIER_FILE


def model_card(onnx_path: Path) -> Path:
    """The JSON model card that sits beside an ONNX file."""
    return onnx_path.with_suffix(".json")


def app_home() -> Path:
    """gan-app's per-user data folder (`$GAN_APP_HOME`, `$XDG_DATA_HOME/gan-app` or `~/.local/share/gan-app`)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "gan-app"


def user_models_dir() -> Path:
    """The folder of user models: `<name>.onnx` + `<name>.json` model cards."""
    return app_home() / "models"


def user_model(name: str) -> Path:
    """Path of the user model called `name` (may not exist: callers check)."""
    return user_models_dir() / f"{name}.onnx"


def find_model(name: str) -> Path | None:
    """The ONNX file `name` resolves to: the user model, else the shipped weights; None when neither exists."""
    for candidate in (user_model(name), shipped_model(name)):
        if candidate.is_file():
            return candidate
    return None


def models_of(head: str) -> list[tuple[str, Path, str]]:
    """(name, path, "shipped" | "user") of every model of `head`: the shipped ONNX files in
    `weights/<head>/` (not their `.int8`/`.fp16`/`.text` companions) and the user models whose card
    names `head` as their head or base head. Only JSON cards are read."""
    import json

    found = [(p.stem, p, "shipped") for p in sorted((weights_root() / head).glob("*.onnx")) if "." not in p.stem]
    for card in sorted(user_models_dir().glob("*.json")):
        try:
            data = json.loads(card.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        onnx = card.with_suffix(".onnx")
        if isinstance(data, dict) and head in (data.get("head"), data.get("base_head")) and onnx.is_file():
            found.append((onnx.stem, onnx, "user"))
    return found


def find_head_model(head: str, name: str) -> Path | None:
    """The model `name` of `head`, also by its short name: `camera` -> `deblur-v1-camera`, `x2-psnr` ->
    `superres-x2-psnr` (tried as NAME, HEAD-NAME, HEAD-v1-NAME); None when none exists."""
    for candidate in (name, f"{head}-{name}", f"{head}-v1-{name}"):
        path = find_model(candidate)
        if path is not None:
            return path
    return None
