"""The gan_app description stored in an ONNX file's `metadata_props`.

Export writes these string keys; the runtime reads them back through ONNX Runtime
(`get_modelmeta().custom_metadata_map`, so the base install needs no `onnx` package)
and needs nothing else to prepare inputs: the graph spec carries the input layout,
value range, scale and size multiple. Each of these is checked on load (types, bounds,
consistency between the inputs and the spec), with the field and the file named in
one line: a wrong value would otherwise surface as a shape error, or an absurd padding.
"""

from __future__ import annotations

import json
import math

from gan_app.errors import UserError
from gan_app.head import GraphSpec

FORMAT_VERSION = 2   # 2: the graph's output channels are `out_channels` (format 1: `channels`, still read)
KEY_FORMAT = "gan_app.format"
KEY_HEAD = "gan_app.head"
KEY_VERSION = "gan_app.version"
KEY_MODEL_CONFIG = "gan_app.model_config"
KEY_GRAPH = "gan_app.graph"
KEY_SOURCE_SHA256 = "gan_app.source_sha256"
KEY_PRECISION = "gan_app.precision"
REQUIRED_KEYS = (KEY_FORMAT, KEY_HEAD, KEY_VERSION, KEY_MODEL_CONFIG, KEY_GRAPH)


def encode_metadata(
    head: str,
    version: str,
    model_config: dict,
    spec: GraphSpec,
    source_sha256: str | None,
    precision: str = "fp32",
) -> dict[str, str]:
    """The string map export stores as `metadata_props` (JSON for structured values)."""
    return {
        KEY_FORMAT: str(FORMAT_VERSION),
        KEY_HEAD: head,
        KEY_VERSION: version,
        KEY_MODEL_CONFIG: json.dumps(model_config, sort_keys=True),
        KEY_GRAPH: json.dumps(spec.to_json_dict(), sort_keys=True),
        KEY_SOURCE_SHA256: source_sha256 or "",
        KEY_PRECISION: precision,
    }


def decode_metadata(props: dict[str, str], source: str) -> tuple[GraphSpec, dict]:
    """(graph spec, meta dict) from `metadata_props`; a one-line UserError if absent or broken.

    `meta` has: format (int), head, version, model_config (dict), graph (dict),
    source_sha256 (str or None), precision.
    """
    missing = [key for key in REQUIRED_KEYS if key not in props]
    if missing:
        raise UserError(
            f"{source} has no gan_app metadata ({', '.join(missing)} missing); "
            "it was not made by `gan-app export`: export the model with `gan-app export HEAD --checkpoint CKPT -o model.onnx`"
        )
    try:
        fmt = int(props[KEY_FORMAT])
        graph = json.loads(props[KEY_GRAPH])
        model_config = json.loads(props[KEY_MODEL_CONFIG])
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{source} has corrupt gan_app metadata ({type(exc).__name__}: {exc}); re-export the model") from None
    if fmt > FORMAT_VERSION:
        raise UserError(
            f"{source} uses gan_app model format {fmt}, newer than this gan-app understands ({FORMAT_VERSION}); upgrade gan-app"
        )
    if not props[KEY_HEAD]:
        raise _bad(source, KEY_HEAD, "must name the head", "")
    if not isinstance(model_config, dict):
        raise _bad(source, KEY_MODEL_CONFIG, "must be a JSON object", model_config)
    spec = check_graph(graph, source)
    meta = {
        "format": fmt,
        "head": props[KEY_HEAD],
        "version": props[KEY_VERSION],
        "model_config": model_config,
        "graph": graph,
        "source_sha256": props.get(KEY_SOURCE_SHA256) or None,
        "precision": props.get(KEY_PRECISION, "fp32"),
    }
    return spec, meta


MAX_SIZE_MULTIPLE = 1024   # 2**10: a deeper U-Net than any head builds; the runtime pads each side to it
MAX_SCALE = 16
MAX_CHANNELS = 4
KINDS = {"image": 4, "latent": 2, "label": 1, "embedding": 2}   # kind -> rank of its input
FLOAT_DTYPES = ("float32", "float16")
INT_DTYPES = ("int64", "int32")
IMAGE_CHANNELS = (1, 3)   # what the runtime reads an image file as; the output may differ (graph.out_channels)
ORT_TYPES = {"float32": "tensor(float)", "float16": "tensor(float16)", "int64": "tensor(int64)", "int32": "tensor(int32)"}
GRAPH_KEYS = {"inputs", "output", "value_range", "out_channels", "scale", "size_multiple", "extra"}
RENAMED_GRAPH_KEYS = {"channels": "out_channels"}   # a format 1 file's key -> today's


def _bad(source: str, field: str, what: str, value: object) -> UserError:
    shown = json.dumps(value) if isinstance(value, (dict, list, str, int, float, bool, type(None))) else repr(value)
    return UserError(f"{source}: gan_app metadata {field} {what}, got {shown[:60]}; re-export the model")


def _an(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _whole(value: object, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def check_graph(graph: object, source: str) -> GraphSpec:
    """The `GraphSpec` of a decoded `gan_app.graph` value, every field checked first.

    A one-line UserError names the field (`graph.size_multiple`, `graph.inputs[0].shape`,
    `graph.extra.class_names`) and `source`: the runtime relies on each of them to size,
    pad and feed the inputs.
    """
    if not isinstance(graph, dict):
        raise _bad(source, "graph", "must be a JSON object", graph)
    graph = _current_keys(graph, source)
    unknown = sorted(set(graph) - GRAPH_KEYS)
    if unknown or "inputs" not in graph:
        raise _bad(source, "graph", f"must have the keys {sorted(GRAPH_KEYS)}", sorted(graph))
    lo_hi = graph.get("value_range", [0.0, 1.0])
    if (not isinstance(lo_hi, list) or len(lo_hi) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in lo_hi)
            or not lo_hi[0] < lo_hi[1]):
        raise _bad(source, "graph.value_range", "must be [low, high], two finite numbers with low < high", lo_hi)
    for field, hi in (("out_channels", MAX_CHANNELS), ("scale", MAX_SCALE), ("size_multiple", MAX_SIZE_MULTIPLE)):
        if not _whole(graph.get(field, 1), 1, hi):
            raise _bad(source, f"graph.{field}", f"must be a whole number in 1..{hi}", graph.get(field))
    if not isinstance(graph.get("output", "image"), str):
        raise _bad(source, "graph.output", "must be a string", graph.get("output"))
    extra = graph.get("extra", {})
    if not isinstance(extra, dict):
        raise _bad(source, "graph.extra", "must be a JSON object", extra)
    inputs = graph["inputs"]
    if not isinstance(inputs, list) or not inputs:
        raise _bad(source, "graph.inputs", "must be a non-empty list", inputs)
    for i, item in enumerate(inputs):
        _check_input(item, f"graph.inputs[{i}]", source)
    _check_extra(inputs, extra, source)
    return GraphSpec.from_json_dict(graph)


def _current_keys(graph: dict, source: str) -> dict:
    """`graph` with the keys of older formats under today's names (`RENAMED_GRAPH_KEYS`)."""
    out = dict(graph)
    for old, new in RENAMED_GRAPH_KEYS.items():
        if old in out:
            if new in out:
                raise _bad(source, "graph", f"must have {new} or {old} (its old name), not both", sorted(graph))
            out[new] = out.pop(old)
    return out


def _check_input(item: object, where: str, source: str) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise _bad(source, where, "must be an object with a name", item)
    kind, shape, dtype = item.get("kind"), item.get("shape"), item.get("dtype", "float32")
    if not isinstance(kind, str) or kind not in KINDS:   # a list or object here is unhashable, not a kind
        raise _bad(source, f"{where}.kind", f"must be one of {sorted(KINDS)}", kind)
    if (not isinstance(shape, list) or len(shape) != KINDS[kind]
            or not all(isinstance(d, str) or _whole(d, 1, 1 << 20) for d in shape)):
        raise _bad(source, f"{where}.shape", f"of {_an(kind)} input must list {KINDS[kind]} sizes (whole numbers >= 1 "
                   "or axis names)", shape)
    allowed = INT_DTYPES if kind == "label" else FLOAT_DTYPES
    if dtype not in allowed:
        raise _bad(source, f"{where}.dtype", f"of {_an(kind)} input must be one of {list(allowed)}", dtype)
    if kind == "image" and isinstance(shape[1], int) and shape[1] not in IMAGE_CHANNELS:
        raise _bad(source, f"{where}.shape", f"declares {shape[1]} image channels; the runtime feeds 1 (grey) or 3 (RGB)", shape)
    if kind in ("latent", "embedding") and not isinstance(shape[1], int):
        raise _bad(source, f"{where}.shape", f"of {_an(kind)} input must give its width as a whole number", shape)


def _check_extra(inputs: list, extra: dict, source: str) -> None:
    """Class names for a label input; `z_dim` (when given) the width of the latent input."""
    kinds = {item["kind"]: item for item in inputs}
    if "label" in kinds:
        names = extra.get("class_names")
        if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) and n for n in names):
            raise _bad(source, "graph.extra.class_names", "of a conditional model must list its class names "
                       "(at least 2 strings)", names)
    if "z_dim" in extra or "latent" in kinds:
        z_dim = extra.get("z_dim", kinds["latent"]["shape"][1] if "latent" in kinds else None)
        width = kinds["latent"]["shape"][1] if "latent" in kinds else z_dim
        if not _whole(z_dim, 1, 1 << 20) or z_dim != width:
            raise _bad(source, "graph.extra.z_dim", f"must be the latent width {width}", z_dim)


def check_inputs_match(spec: GraphSpec, graph_inputs: list, source: str) -> None:
    """A one-line UserError unless the ONNX graph's own inputs (ONNX Runtime `NodeArg`s: name,
    shape, type) are the ones the metadata declares: same names, element types, and the same
    size wherever both give a number (e.g. metadata saying 1 image channel for a 3-channel graph)."""
    actual = {arg.name: arg for arg in graph_inputs}
    if set(actual) != {i.name for i in spec.inputs}:
        raise UserError(f"{source}: graph inputs {sorted(actual)} do not match its metadata; re-export the model")
    for i, item in enumerate(spec.inputs):
        arg = actual[item.name]
        if ORT_TYPES.get(item.dtype) != arg.type:
            raise _bad(source, f"graph.inputs[{i}].dtype", f"says {item.dtype} but the graph takes {arg.type}", item.dtype)
        dims = list(arg.shape or [])
        if len(dims) != len(item.shape) or any(isinstance(a, int) and isinstance(b, int) and a != b
                                                for a, b in zip(item.shape, dims)):
            raise _bad(source, f"graph.inputs[{i}].shape", f"does not match the graph's input shape {dims}",
                       list(item.shape))


def set_metadata(proto, props: dict[str, str]) -> None:
    """Replace the keys `props` names in an `onnx.ModelProto`'s `metadata_props`, keeping the others."""
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key not in props]
    del proto.metadata_props[:]
    for key, value in kept + sorted(props.items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
