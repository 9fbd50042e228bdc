"""The shipped real-world models' (x4 and x2) fp16 and int8 variants: finite, never black, close to fp32 on real photos.

Real-ESRGAN's fp16 exports are known to give black or NaN images where activations overflow half
precision (bright, saturated areas); int8 dynamic quantization can clip. These run the variants that
`gan-app export --fp16 --int8` writes (`gan_app.quantize.convert`, made here from the shipped fp32 file)
on real photo crops with highlights, shadows and JPEG noise.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from gan_app.metrics.fidelity import psnr
from gan_app.paths import weights_root
from gan_app.quantize import VARIANTS, convert


def _crops() -> list[np.ndarray]:
    """(1, 3, 64, 64) float32 crops: a bright sky/highlight area, a dark one and a textured one."""
    skimage = pytest.importorskip("skimage.data")
    photos = [skimage.astronaut(), skimage.chelsea(), skimage.coffee()]
    crops = []
    for img in photos:
        h, w = img.shape[:2]
        for y, x in ((0, 0), (h // 2 - 32, w // 2 - 32), (h - 64, w - 64)):
            crops.append(img[y:y + 64, x:x + 64].transpose(2, 0, 1)[None].astype(np.float32) / 255.0)
    crops.append(np.ones((1, 3, 64, 64), np.float32))            # saturated white: the overflow case
    return crops


@pytest.mark.parametrize("scale", [4, 2])
@pytest.mark.parametrize("kind", VARIANTS)
def test_shipped_real_world_model_variants_are_finite_and_close_to_fp32(tmp_path, kind, scale):
    src = weights_root() / "superres" / f"superres-x{scale}-real.onnx"
    dst = tmp_path / f"real.{kind}.onnx"
    import onnx

    props = {p.key: p.value for p in onnx.load(str(src)).metadata_props}
    convert(kind, src, dst, props)
    fp32 = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    variant = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"])
    name = fp32.get_inputs()[0].name
    floor = {"fp16": 60.0, "int8": 45.0}[kind]     # dB against fp32 (measured: min 73.9 and 55.6 dB)
    for crop in _crops():
        ref = fp32.run(None, {name: crop})[0]
        out = variant.run(None, {name: crop})[0]
        assert out.shape == ref.shape == (1, 3, 64 * scale, 64 * scale)
        assert np.isfinite(out).all()
        assert abs(float(out.mean()) - float(ref.mean())) < 0.02          # not black, not washed out
        assert psnr(np.clip(out[0], 0, 1).transpose(1, 2, 0), np.clip(ref[0], 0, 1).transpose(1, 2, 0)) > floor
