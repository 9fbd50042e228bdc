"""The inference path (the Python API, the runtime, the `run` verb) never imports torch, nor the onnx package.

Head modules, which `gan-app` also imports, are checked by the CLI's own tests.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

SCRIPT = """
import json, sys
import gan_app
import numpy as np
from PIL import Image
model = gan_app.load(sys.argv[1])
array = model(np.asarray(Image.open(sys.argv[2])), tile=16)
Image.fromarray(array).save(sys.argv[3])
written = [sys.argv[3]]
import typer
from gan_app.apps.commands import register_run
app = typer.Typer()
app.callback()(lambda: None)
register_run(app)
try:
    app(["run", "tiny", sys.argv[2], "--model", sys.argv[1], "-o", sys.argv[4], "--compare", "--tile", "16"])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "written": [str(p) for p in written],
                  "heavy": sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "onnx", "torchvision"))}))
"""


def test_inference_path_imports_no_torch(exported, photo, tmp_path):
    src = tmp_path / "in.png"
    Image.fromarray(photo[:32, :40]).save(src)
    outs = (tmp_path / "api.png", tmp_path / "cli.png")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(exported["conv"]), str(src), *map(str, outs)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [] and report["code"] in (0, None)
    api, cli = (np.asarray(Image.open(p)) for p in outs)
    assert api.shape == (32, 40, 3) and np.array_equal(api, cli)
    assert (tmp_path / "cli_compare.png").is_file()
