"""Memory is bounded by the integer output, not a float32 image (#20): a 24 MP x4 upscale in a fresh process.

The float path held the output as float32 plus a float32 weight plane (16 bytes per RGB pixel) before
quantizing; now tiles are blended in one band of rows and rounded straight into the uint8 output, so the
peak grows by about the uint8 output and Pillow's copy of it for encoding (~7 bytes per pixel).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

_MEASURE = """
import json, resource, sys
from gan_app.api import ImageModel
from gan_app.runtime.batch import process_images
from gan_app.runtime.session import load_model
model = ImageModel(load_model(sys.argv[1], threads=1))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss        # imports and model loaded
process_images(model, [sys.argv[2]], sys.argv[3], tile=64, max_pixels=10**8)
print(json.dumps({"before": before, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def test_a_large_upscale_never_holds_a_float_image(tiny, tmp_path):
    model = tmp_path / "sr4.onnx"
    tiny.export_tiny(model, "sr4", width=2)                                 # x4, cheap enough for 24 MP
    y, x = np.mgrid[0:1000, 0:1500].astype(np.float32)
    smooth = 0.5 + 0.4 * np.sin(x / 37)[..., None] * np.cos(y / 23)[..., None] * np.array([1, 0.6, 0.3], np.float32)
    Image.fromarray(np.round(smooth * 255).astype(np.uint8)).save(tmp_path / "in.png")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(model), str(tmp_path / "in.png"), str(tmp_path / "out.png")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    rss = json.loads(done.stdout.splitlines()[-1])
    grown = (rss["peak"] - rss["before"]) * 1024                              # ru_maxrss is in KiB on Linux
    with Image.open(tmp_path / "out.png") as out:
        assert out.size == (6000, 4000) and out.mode == "RGB"
    float_output = 6000 * 4000 * 3 * 4                                         # 288 MB: the float path needed more
    assert grown < 0.8 * float_output, f"peak grew by {grown / 1e6:.0f} MB for a {float_output / 1e6:.0f} MB float32 output"
