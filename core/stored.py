"""Run configs read back from files: checkpoint headers, a run folder's config.json, `--config`.

A stored run config is `to_dict(RunConfig)` as JSON: {"head", "model", "data", "train", "loss"}.
Files written by older versions are read in today's layout by `migrate_run`, one rule set
for every head (no per-head code):

- fields renamed since (`gan_app.config.RENAMED_FIELDS`, e.g. `perceptual_weights` ->
  `vgg_weights`) take their new name in the model and loss sections, unless the head's
  config still has a field of the old name;
- loss settings stored inside `model`, from before the loss section existed (e.g. deblur's
  `content_weight`), move to `loss`: every key of the head's loss config found in `model`.

So a checkpoint, config.json or ONNX card from before the loss section loads with the same
values as when it was written. `resume_changes` compares a stored run with the one a resumed
run continues with: the architecture (`model`) must match, every other change is named.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from gan_app.config import RENAMED_FIELDS, SECTIONS, RunConfig, TrainConfig, from_dict, to_dict
from gan_app.errors import UserError


def split_model(model: dict, model_cls: type, loss_cls: type) -> tuple[dict, dict]:
    """(architecture, loss settings) of a stored model dict that may still hold the loss settings (files
    from before the loss section), old field names renamed; keys of `model_cls` always stay in the model."""
    kept, loss = _names(model_cls), _names(loss_cls)
    model = _renamed(model, kept | loss)
    moving = loss - kept
    return ({k: v for k, v in model.items() if k not in moving}, {k: v for k, v in model.items() if k in moving})


def migrate_run(data: dict, model_cls: type, loss_cls: type) -> dict:
    """The stored run config `data` (a JSON object) in today's layout; `data` itself is left as it is.

    Sections that are not JSON objects are left for `run_from_dict` to name."""
    out = dict(data)
    if isinstance(out.get("model"), dict):
        out["model"], moved = split_model(out["model"], model_cls, loss_cls)
        loss = out.get("loss", {})
        out["loss"] = {**moved, **_renamed(loss, _names(loss_cls))} if isinstance(loss, dict) else loss
    return out


def _names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _renamed(section: dict, fields: set[str]) -> dict:
    """`section` with each old field name its config class no longer has (`fields`: the names it has)
    replaced by the new one (a new name already present wins). A head whose own field has an old
    name keeps it."""
    old = {name: new for name, new in RENAMED_FIELDS.items() if name in section and name not in fields}
    out = {key: value for key, value in section.items() if key not in old}
    for name, new in old.items():
        out.setdefault(new, section[name])
    return out


def run_from_dict(head: Any, data: dict, source: str | Path = "checkpoint") -> RunConfig:
    """The RunConfig stored as `data` (a checkpoint's `run`, a config.json), with the head's own config
    dataclasses, migrated from older layouts (`migrate_run`).

    Every value is typed and checked (`gan_app.config.from_dict`): a UserError names the field
    (`run.model.width`) and `source`.
    """
    if not isinstance(data, dict):
        raise UserError(f"{source}: a run config must be a JSON object with model, data and train, got {type(data).__name__}")
    missing = [key for key in ("model", "data", "train") if key not in data]
    if missing:
        raise UserError(f"{source}: run config lacks {', '.join(missing)}; the file is not a complete gan_app run config")
    classes = {"model": head.model_config_cls(), "data": head.data_config_cls(), "train": TrainConfig,
               "loss": head.loss_config_cls()}
    data = migrate_run(data, classes["model"], classes["loss"])
    try:
        return RunConfig(head=data.get("head", head.name),
                         **{key: from_dict(cls, data.get(key, {}), f"run.{key}") for key, cls in classes.items()})
    except UserError as exc:
        raise UserError(f"{source}: {exc}") from None


def read_run_file(head: Any, path: str | Path) -> RunConfig:
    """The run config in JSON file `path` (a run folder's config.json, `gan-app train --config`), for `head`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"run config {path} not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not a readable JSON run config ({exc})") from None
    if isinstance(data, dict) and data.get("head", head.name) != head.name:
        raise UserError(f"{path} is a run config of head {data['head']!r}, not {head.name!r}; "
                        f"use `gan-app train {data['head']} --config {path}`")
    return run_from_dict(head, data, path)


def resume_changes(stored: dict, run: RunConfig, source: str | Path) -> list[str]:
    """`section.field OLD -> NEW` for every field in which `run` differs from the stored run `stored`
    (a checkpoint's `run`); a UserError naming every differing `model.*` field, since a resumed run's
    weights must fit its architecture.

    Compared as JSON (stored tuples are lists) after filling the stored sections through their
    config classes: a field added since, at its default, is no change. A stored field this version
    does not know is compared as stored, so it differs.
    """
    stored = migrate_run(stored, type(run.model), type(run.loss))
    now = to_dict(run)
    changes: dict[str, list[str]] = {}
    for section in SECTIONS:
        old, cls = stored.get(section, {}), type(getattr(run, section))
        if isinstance(old, dict) and set(old) <= {f.name for f in dataclasses.fields(cls)}:
            try:   # a value of the wrong type or out of range: an error naming it
                old = to_dict(from_dict(cls, old, f"run.{section}"))
            except UserError as exc:
                raise UserError(f"--resume: {source}: {exc}") from None
        changes[section] = _differences(section, old if isinstance(old, dict) else {}, now[section])
    if changes["model"]:
        raise UserError(f"--resume: the model config differs from {source}'s: {', '.join(changes['model'])}; a resumed "
                        "run keeps its architecture: drop those model.* values, or start a new run from its weights "
                        "(--set train.init_from=CHECKPOINT)")
    return [line for section in SECTIONS[1:] for line in changes[section]]


def _differences(section: str, old: dict, new: dict) -> list[str]:
    def show(value: Any) -> str:
        return "(none)" if value is _ABSENT else json.dumps(value)

    old, new = json.loads(json.dumps(old)), json.loads(json.dumps(new))
    keys = list(new) + [k for k in old if k not in new]
    return [f"{section}.{k} {show(old.get(k, _ABSENT))} -> {show(new.get(k, _ABSENT))}"
            for k in keys if old.get(k, _ABSENT) != new.get(k, _ABSENT)]


_ABSENT = object()
