"""Export a trained generator to ONNX, prove it matches PyTorch, and describe it.

`export_generator` is generic over heads: the head's `GraphSpec` says which inputs the
graph takes (their kinds and dynamic axes), the value range, scale and size multiple.
Every export checks PyTorch against ONNX Runtime on random inputs and on real photos
at two sizes (and batch 2, while the graph was traced at batch 1), and refuses to write
the file when the largest difference exceeds the tolerance. The file carries its own
description in `metadata_props` (read back by `gan_app.runtime`); a JSON model card
beside it adds the parity figures, training data, losses, metrics and the file's sha256.

The exporter is torch's TorchScript-based one (`dynamo=False`): it exports dynamic
batch/height/width from plain `dynamic_axes` without per-model shape constraints (the
dynamo exporter needs `Dim` expressions for every size a U-Net divides), needs no
onnxscript, and takes a fraction of a second; the parity check guards its output.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gan_app import __version__
from gan_app.config import RunConfig, to_dict
from gan_app.discovery import check_model_name
from gan_app.errors import UserError, require_train_extra
from gan_app.head import GraphSpec, Head
from gan_app.paths import model_card, user_model
from gan_app.runtime.files import atomic_output, output_folders, sha256_file
from gan_app.runtime.images import LUMA
from gan_app.runtime.metadata import FORMAT_VERSION, KEY_PRECISION, encode_metadata, set_metadata
from gan_app.runtime.tiling import round_up

OPSET = 18
DEFAULT_TOLERANCE = 1e-4  # max abs difference, fp32, in the output's value range
PARITY_BATCH = 2


def default_parity_sizes(multiple: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Two different (H, W) sizes, multiples of `multiple`, the second non-square."""
    h1 = w1 = round_up(64, multiple)
    return (h1, w1), (max(round_up(96, multiple), h1 + multiple), max(round_up(80, multiple), w1 + multiple))


def export_generator(
    head: Head,
    run: RunConfig,
    generator: Any,
    out_path: Path,
    *,
    source_checkpoint: Path | None = None,
    metrics: dict | None = None,
    step: int | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    parity_sizes: tuple[tuple[int, int], ...] | None = None,
    real_inputs: list[dict] | None = None,
    variants: tuple[str, ...] = (),
) -> dict:
    """Write `out_path` (.onnx) and its model card after a passing parity check; return the card.

    `generator` is called as `generator(*inputs)` with the inputs in `GraphSpec.inputs`
    order and returns the output image (B, C, H*scale, W*scale). It is copied to CPU
    float32 in eval mode; the caller's module is untouched. `real_inputs`: extra parity
    cases, each a dict input name -> tensor. `variants`: "fp16" and/or "int8" files
    written beside (`<stem>.fp16.onnx`), each with its parity and speed in the card;
    the fp32 file stays the default. Raises UserError (and writes nothing) when parity fails.
    """
    import onnxruntime as ort
    import torch

    from gan_app import quantize

    out_path = Path(out_path)
    if out_path.suffix.lower() != ".onnx":
        raise UserError(f"export output must end in .onnx, got {out_path}")
    unknown = set(variants) - set(quantize.VARIANTS)
    if unknown:
        raise UserError(f"unknown export variant(s) {sorted(unknown)}; choose from {quantize.VARIANTS}")
    spec = head.graph(run.model)
    multiple = max(1, spec.size_multiple)
    model = copy.deepcopy(generator).to("cpu", torch.float32).eval()
    sizes = tuple(parity_sizes or default_parity_sizes(multiple))
    cases = _parity_cases(head, run, spec, sizes, real_inputs or [])
    source_sha = sha256_file(source_checkpoint) if source_checkpoint else None
    props = encode_metadata(head.name, __version__, to_dict(run.model), spec, source_sha)
    with output_folders([out_path.parent]), contextlib.ExitStack() as stack:   # a failed export leaves no new folder
        tmp = stack.enter_context(atomic_output(out_path))
        trace = head.example_inputs(run.model, 1, round_up(32, multiple), round_up(48, multiple))  # unlike parity sizes
        _export_onnx(model, spec, trace, tmp, props)
        cpu = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        references = _torch_outputs(model, spec, cases)
        parity = _parity(cpu, spec, cases, references)
        worst = max(p["max_abs_diff"] for p in parity)
        if not worst <= tolerance:
            bad = next(p for p in parity if p["max_abs_diff"] == worst)
            raise UserError(
                f"ONNX parity failed: max abs difference {worst:.3g} > tolerance {tolerance:g} on {bad['case']} "
                f"{bad['shape']}; {out_path} was not written"
            )
        report = {"tolerance": tolerance, "max_abs_diff": worst, "min_psnr_db": _min_psnr(parity), "cases": parity}
        variant_reports = [
            _variant(kind, out_path, tmp, props, spec, cases, references, tolerance, stack) for kind in variants
        ]
        card = _card(head, run, spec, out_path, tmp, references[0].shape, source_checkpoint, source_sha, metrics, step,
                     report, variant_reports)
        companions = head.export_companions(run, model, out_path)
        if companions:
            card["companions"] = companions
        _write_json(model_card(out_path), card, stack)
    return card


def _export_onnx(model: Any, spec: GraphSpec, example: dict, path: Path, props: dict[str, str]) -> None:
    """torch -> ONNX at `path` with dynamic axes from `spec`, checked and stamped with `props`."""
    import onnx
    import torch

    names = [i.name for i in spec.inputs]
    _check_example(example, names)
    output = output_name(spec)
    axes = {i.name: {k: d for k, d in enumerate(i.shape) if isinstance(d, str)} for i in spec.inputs}
    axes[output] = {0: "B"}
    if any(i.kind == "image" for i in spec.inputs):
        axes[output].update({2: "H_out", 3: "W_out"})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # the TorchScript exporter is chosen on purpose
        torch.onnx.export(
            model,
            tuple(example[n] for n in names),
            str(path),
            input_names=names,
            output_names=[output],
            dynamic_axes=axes,
            opset_version=OPSET,
            do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL,
            dynamo=False,
        )
    proto = onnx.load(str(path))
    leftovers = training_ops(proto)
    if leftovers:
        raise UserError(f"the exported graph still holds training-only ops {leftovers}; the generator must export in eval mode")
    set_metadata(proto, props)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def output_name(spec: GraphSpec) -> str:
    """The graph's output name: `spec.output`, suffixed `_out` when an input has that name (ONNX names are unique)."""
    taken = {i.name for i in spec.inputs}
    return spec.output if spec.output not in taken else f"{spec.output}_out"


def training_ops(proto: Any) -> list[str]:
    """Names of nodes that only make sense in training: Dropout, BatchNormalization in training mode."""
    found = []
    for node in proto.graph.node:
        training_bn = node.op_type == "BatchNormalization" and (
            len(node.output) > 1 or any(a.name == "training_mode" and a.i for a in node.attribute)
        )
        if node.op_type == "Dropout" or training_bn:
            found.append(f"{node.op_type}:{node.name}")
    return found


def _check_example(example: dict, names: list[str]) -> None:
    if set(example) != set(names):
        raise ValueError(f"head.example_inputs returned {sorted(example)}, graph inputs are {sorted(names)}")


def _parity_cases(head: Head, run: RunConfig, spec: GraphSpec, sizes: tuple, real_inputs: list[dict]) -> list[tuple[str, dict]]:
    """(label, inputs) pairs: random and photo inputs at every size, then the caller's real inputs."""
    import torch

    names = [i.name for i in spec.inputs]
    cases = []
    for index, (height, width) in enumerate(sizes):
        with torch.random.fork_rng():
            torch.manual_seed(index)
            example = head.example_inputs(run.model, PARITY_BATCH, height, width)
        _check_example(example, names)
        cases.append((f"random {height}x{width}", example))
        images = [i for i in spec.inputs if i.kind == "image"]
        if images:
            photos = dict(example)
            for item in images:
                channels = item.shape[1] if isinstance(item.shape[1], int) else spec.out_channels
                photos[item.name] = torch.from_numpy(_photos(PARITY_BATCH, channels, height, width, spec.value_range))
            cases.append((f"photo {height}x{width}", photos))
    for index, given in enumerate(real_inputs):
        _check_example(given, names)
        cases.append((f"given #{index}", given))
    return cases


def _photos(count: int, channels: int, height: int, width: int, value_range: tuple) -> np.ndarray:
    """(count, channels, height, width) float32 crops of real photos (scikit-image's), in `value_range`."""
    try:
        from skimage import data
    except ImportError:
        raise UserError("parity on real photos needs scikit-image: run `pip install 'gan-app[train]'`") from None
    from PIL import Image

    sources = (data.astronaut(), data.chelsea())  # (H, W, 3) uint8
    crops = []
    for k in range(count):
        photo = Image.fromarray(sources[k % len(sources)])
        if photo.width < width or photo.height < height:
            photo = photo.resize((max(width, photo.width), max(height, photo.height)), Image.Resampling.BICUBIC)
        left, top = (photo.width - width) // 2, (photo.height - height) // 2
        crop = np.asarray(photo.crop((left, top, left + width, top + height)), dtype=np.float32) / 255.0
        if channels == 1:
            crop = crop @ LUMA[:, None]
        crops.append(crop.transpose(2, 0, 1))
    low, high = value_range
    return (np.stack(crops) * (high - low) + low).astype(np.float32)


def _torch_outputs(model: Any, spec: GraphSpec, cases: list) -> list[np.ndarray]:
    import torch

    with torch.no_grad():
        return [model(*(feeds[i.name] for i in spec.inputs)).float().numpy() for _, feeds in cases]


def _feeds(feeds: dict) -> dict[str, np.ndarray]:
    return {name: value.numpy() if hasattr(value, "numpy") else np.asarray(value) for name, value in feeds.items()}


def _parity(session: Any, spec: GraphSpec, cases: list, references: list[np.ndarray]) -> list[dict]:
    """Max abs difference and PSNR (over the output value range) of ONNX Runtime vs PyTorch, per case."""
    span = float(spec.value_range[1] - spec.value_range[0])
    results = []
    for (label, feeds), ref in zip(cases, references):
        got = session.run(None, _feeds(feeds))[0].astype(np.float32)
        if got.shape != ref.shape:
            raise UserError(f"ONNX output shape {got.shape} differs from PyTorch {ref.shape} on {label}; export failed")
        if not (np.isfinite(ref).all() and np.isfinite(got).all()):   # NaN compares false: it would pass any bound
            raise UserError(f"the generator's output is NaN or infinite on the {label} parity case; its weights are "
                            "broken (a diverged run?): export refused, nothing written")
        diff = np.abs(got - ref)
        mse = float(np.mean(diff.astype(np.float64) ** 2))
        psnr = "inf" if mse == 0 else round(10 * math.log10(span * span / mse), 2)
        results.append({"case": label, "shape": list(ref.shape), "max_abs_diff": float(diff.max()), "psnr_db": psnr})
    return results


def _min_psnr(parity: list[dict]) -> float | str:
    values = [p["psnr_db"] for p in parity if p["psnr_db"] != "inf"]
    return min(values) if values else "inf"


def _variant(kind: str, out_path: Path, fp32: Path, props: dict, spec: GraphSpec, cases: list,
             references: list, tolerance: float, stack: contextlib.ExitStack) -> dict:
    """Write the `kind` variant beside `out_path` (atomically, with the export) and measure it."""
    from gan_app import quantize

    dest = out_path.with_name(f"{out_path.stem}.{kind}.onnx")
    tmp = stack.enter_context(atomic_output(dest))
    quantize.convert(kind, fp32, tmp, {**props, KEY_PRECISION: kind})
    session, baseline = quantize.sessions(tmp, fp32)
    parity = _parity(session, spec, cases, references)
    worst = max(p["max_abs_diff"] for p in parity)
    largest = max(range(len(cases)), key=lambda k: references[k].size)
    feeds = {name: value[:1] for name, value in _feeds(cases[largest][1]).items()}
    speed = quantize.speed_change(baseline, session, feeds)
    report = {
        "precision": kind, "file": dest.name, "sha256": sha256_file(tmp), "providers": session.get_providers(),
        "parity": {"tolerance": tolerance, "max_abs_diff": worst, "min_psnr_db": _min_psnr(parity),
                   "meets_tolerance": bool(worst <= tolerance), "cases": parity},
        "speed": speed,
    }
    _write_json(model_card(dest), {"variant_of": out_path.name, **report}, stack)
    return report


def _card(
    head: Head, run: RunConfig, spec: GraphSpec, out_path: Path, onnx_file: Path, out_shape: tuple,
    checkpoint: Path | None, source_sha: str | None, metrics: dict | None, step: int | None,
    parity: dict, variants: list[dict],
) -> dict:
    """The JSON model card: what the file takes and returns, how it was made, how well it matches."""
    import onnxruntime
    import torch

    if any(i.kind == "image" for i in spec.inputs):
        shape = ["B", out_shape[1], f"H*{spec.scale}", f"W*{spec.scale}"]
    else:
        shape = ["B", *out_shape[1:]]
    return {
        "format": FORMAT_VERSION,
        "head": head.name,
        "base_head": head.base or head.name,
        "gan_app_version": __version__,
        "file": out_path.name,
        "sha256": sha256_file(onnx_file),
        "inputs": [{"name": i.name, "kind": i.kind, "shape": list(i.shape), "dtype": i.dtype} for i in spec.inputs],
        "output": {"name": output_name(spec), "layout": "NCHW", "shape": shape},
        "value_range": list(spec.value_range),
        "scale": spec.scale,
        "size_multiple": spec.size_multiple,
        "conditioning": spec.extra,
        "model_config": to_dict(run.model),
        "loss_config": to_dict(run.loss),
        "training": {"steps": step, **head.card_info(run), **_distillation(run)},
        "metrics": metrics,
        "source_checkpoint": {"file": checkpoint.name, "sha256": source_sha} if checkpoint else None,
        "export": {"opset": OPSET, "exporter": "torch.onnx TorchScript (dynamo=False)", "torch": torch.__version__,
                   "onnxruntime": onnxruntime.__version__, "parity": parity},
        "variants": variants,
    }


def _distillation(run: RunConfig) -> dict:
    """The card's word on `train.teacher` (gan_app.train.teacher), for every head; {} when the run had none."""
    t = run.train
    if not t.teacher:
        return {}
    return {"distillation": f"teacher {Path(t.teacher).name} averaged over {t.teacher_ensemble} flips/transposes, "
                            f"{t.teacher_share:.0%} of each content term against it, the rest against the ground truth"}


def _write_json(path: Path, data: dict, stack: contextlib.ExitStack) -> None:
    """Write `data` to a temp file now; it replaces `path` when the export as a whole succeeds."""
    tmp = stack.enter_context(atomic_output(path))
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def export_checkpoint(
    head_name: str,
    checkpoint: Path,
    out_path: Path | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    variants: tuple[str, ...] = (),
    use_ema: bool = True,
    overwrite: bool = False,
    install: bool = False,
) -> dict:
    """`gan-app export`: load the (EMA) generator of `checkpoint`, check it is a `head_name` model, export.

    A model whose run names it (`head.model_name(run)`, e.g. `--name colorize`) is exported
    as that named head. `out_path=None` installs it as a user model, `<models>/<name>.onnx`
    (see `gan_app.paths`), where `gan-app run NAME` and `gan-app heads` find it; for a plain
    head that model would replace the shipped weights its verb uses, so that needs `install`.
    No file (ONNX, card, variants) is replaced unless `overwrite`; both are checked before any work.
    """
    require_train_extra("`gan-app export`")
    from gan_app.checkpoint import load_generator, read_checkpoint

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise UserError(f"checkpoint {checkpoint} does not exist")
    head, run, generator = load_generator(checkpoint, use_ema=use_ema)
    name = head.model_name(run)
    if head_name not in (head.name, head.verb, name):
        raise UserError(f"{checkpoint} is a {head.name!r} checkpoint, not {head_name!r}: run `gan-app export {head.name} ...`")
    if out_path is None and name == head.name and not install:   # a plain head's user model shadows its shipped one
        raise UserError(f"without -o, export would install this model as {name!r}, which `gan-app {head.verb or 'run ' + name}` then runs "
                        f"instead of the shipped weights; pass -o FILE.onnx, or --install to do exactly that")
    if name != head.name:
        check_model_name(name, head.name)
        head = head.as_named(name)
    out_path = user_model(name) if out_path is None else Path(out_path)
    existing = [p for p in export_files(out_path, variants) if p.exists()]
    folders = [p for p in existing if p.is_dir()]
    if folders:
        raise UserError(f"{folders[0]} is an existing folder, which the export cannot replace; choose another -o")
    if existing and not overwrite:
        raise UserError(f"{', '.join(str(p) for p in existing)} already exist(s); pass --overwrite to replace, "
                        "or choose another -o")
    _, meta = read_checkpoint(checkpoint)
    return export_generator(
        head, run, generator, out_path, source_checkpoint=checkpoint, metrics=meta.get("metrics"),
        step=meta.get("step"), tolerance=tolerance, variants=variants,
    )


def export_files(out_path: Path, variants: tuple[str, ...] = ()) -> list[Path]:
    """Every file an export to `out_path` writes: the ONNX, its card, and each variant's ONNX and card."""
    onnx = [out_path] + [out_path.with_name(f"{out_path.stem}.{kind}.onnx") for kind in variants]
    return [f for path in onnx for f in (path, model_card(path))]


def summary(card: dict) -> list[str]:
    """Human-readable lines about an export: files, parity, variants."""
    parity = card["export"]["parity"]
    lines = [f"wrote {card['file']} (sha256 {card['sha256'][:12]}...) and its model card",
             f"parity vs PyTorch: max abs diff {parity['max_abs_diff']:.3g} (tolerance {parity['tolerance']:g}), "
             f"min PSNR {parity['min_psnr_db']} dB over {len(parity['cases'])} cases"]
    for variant in card["variants"]:
        p, s = variant["parity"], variant["speed"]
        verdict = "meets" if p["meets_tolerance"] else "does NOT meet"
        lines.append(f"{variant['precision']}: {variant['file']}, max abs diff {p['max_abs_diff']:.3g} ({verdict} the "
                     f"tolerance), min PSNR {p['min_psnr_db']} dB, speed x{s['speedup']:.2f} on {variant['providers'][0]}")
    return lines
