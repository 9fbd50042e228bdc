"""Reduced-precision variants of an exported fp32 model, through ONNX Runtime's own tools.

`fp16`: weights and activations in half precision (inputs and outputs stay float32, so
the runtime feeds it like the fp32 file); worthwhile on GPU providers. `int8`: dynamic
quantization (int8 weights, activations quantized on the fly), for CPU. Neither is ever
the default: export writes them beside the fp32 file with their measured parity and
speed, and the user chooses.
"""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

import numpy as np

VARIANTS = ("fp16", "int8")
SPEED_REPEATS = 5


def convert(kind: str, src: Path, dst: Path, props: dict[str, str]) -> None:
    """Write the `kind` variant of the fp32 model `src` to `dst`, with metadata `props`."""
    import onnx

    from gan_app.runtime.metadata import set_metadata

    if kind == "fp16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        model = convert_float_to_float16(onnx.load(str(src)), keep_io_types=True)
    elif kind == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # ORT logs "consider pre-processing"; its pre-processing (symbolic shape inference)
        # cannot handle dynamic H/W, so the advice does not apply here.
        logging.disable(logging.WARNING)
        try:
            quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(logging.NOTSET)
        model = onnx.load(str(dst))
    else:
        raise ValueError(f"unknown variant {kind!r}; choose from {VARIANTS}")
    set_metadata(model, props)
    onnx.save(model, str(dst))


def sessions(variant: Path, fp32: Path) -> tuple:
    """(variant session, fp32 session) on the same providers (CUDA when present), for a fair timing."""
    import onnxruntime as ort

    from gan_app.runtime.session import pick_providers

    providers = pick_providers()
    return (ort.InferenceSession(str(variant), providers=providers),
            ort.InferenceSession(str(fp32), providers=providers))


def median_seconds(session, feeds: dict[str, np.ndarray], repeats: int = SPEED_REPEATS) -> float:
    """Median wall time of `session.run` on `feeds`, after one warm-up run."""
    session.run(None, feeds)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speed_change(baseline, variant, feeds: dict[str, np.ndarray]) -> dict:
    """fp32 and variant latency (ms) on `feeds`, and the speedup (> 1: the variant is faster)."""
    before, after = median_seconds(baseline, feeds), median_seconds(variant, feeds)
    return {"fp32_ms": round(before * 1e3, 3), "variant_ms": round(after * 1e3, 3), "speedup": before / after,
            "input": {name: list(value.shape) for name, value in feeds.items()}}
