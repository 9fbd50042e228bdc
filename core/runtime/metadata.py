"""The gan_app description stored in an ONNX file's `metadata_props`.

Export writes these string keys; the runtime reads them back through ONNX Runtime
(`get_modelmeta().custom_metadata_map`, so the base install needs no `onnx` package)
and needs nothing else to prepare inputs: the graph spec carries the input layout,
value range, scale and size multiple.
"""

from __future__ import annotations

import json

from gan_app.errors import UserError
from gan_app.head import GraphSpec

FORMAT_VERSION = 1
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
        spec = GraphSpec.from_json_dict(graph)
        model_config = json.loads(props[KEY_MODEL_CONFIG])
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{source} has corrupt gan_app metadata ({type(exc).__name__}: {exc}); re-export the model") from None
    if fmt > FORMAT_VERSION:
        raise UserError(
            f"{source} uses gan_app model format {fmt}, newer than this gan-app understands ({FORMAT_VERSION}); upgrade gan-app"
        )
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


def set_metadata(proto, props: dict[str, str]) -> None:
    """Replace the keys `props` names in an `onnx.ModelProto`'s `metadata_props`, keeping the others."""
    kept = [(p.key, p.value) for p in proto.metadata_props if p.key not in props]
    del proto.metadata_props[:]
    for key, value in kept + sorted(props.items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
