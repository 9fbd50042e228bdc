"""A third-party head, visible only through entry-point metadata, works through the CLI end to end.

The head is the example of docs/new-head.md (docs/examples/gan-app-denoise/), made importable
with a hand-written `*.dist-info` (METADATA + entry_points.txt from its pyproject.toml) on
PYTHONPATH: exactly what `pip install` leaves behind, without a build. The guide's code blocks
must equal the example files, so the guide cannot rot.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "gan-app-denoise"
GUIDE = ROOT / "docs" / "new-head.md"
FILE_BLOCK = re.compile(r"<!-- file: (?P<path>[^ ]+) -->\n```[a-z]*\n(?P<code>.*?)```", re.S)


def example_files() -> dict[str, str]:
    """Relative path -> text of every file of the example package."""
    return {p.relative_to(EXAMPLE).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(EXAMPLE.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_guide_shows_every_example_file_verbatim():
    blocks = {m["path"]: m["code"] for m in FILE_BLOCK.finditer(GUIDE.read_text(encoding="utf-8"))}
    assert blocks == example_files()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A folder for PYTHONPATH holding the package and the dist-info pip would write for it."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(EXAMPLE / "gan_app_denoise", site / "gan_app_denoise")
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = [f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items())
              for group, eps in project["entry-points"].items()]
    (info / "entry_points.txt").write_text("\n".join(groups))
    return site


def gan_app(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-m", "gan_app.apps.cli", *args], capture_output=True, text=True, env=env)
    assert result.returncode == 0, f"gan-app {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_third_party_head_lists_trains_exports_and_runs(site, tmp_path):
    import onnx

    listing = gan_app(site, "heads").stdout
    row = next(line for line in listing.splitlines() if line.startswith("denoise "))
    assert "gan-app run denoise" in row and "[gan-app-denoise]" in row  # found through its distribution

    clean = tmp_path / "clean"
    clean.mkdir()
    yy, xx = np.mgrid[0:40, 0:48] / 40.0
    for k in range(2):  # smooth colour gradients: clean images worth denoising
        picture = np.stack([yy, xx * (k + 1) % 1.0, 1 - yy], axis=-1)
        Image.fromarray((picture * 255).astype(np.uint8)).save(clean / f"c{k}.png")
    run_dir = tmp_path / "run"
    gan_app(site, "train", "denoise", "--recipe", "tiny", "--data", str(clean), "--out", str(run_dir), "--device", "cpu")
    checkpoint = run_dir / "checkpoints" / "step_000002.safetensors"
    assert checkpoint.is_file()

    model = tmp_path / "denoise.onnx"
    gan_app(site, "export", "denoise", "--checkpoint", str(checkpoint), "-o", str(model))
    meta = {p.key: p.value for p in onnx.load(str(model)).metadata_props}
    assert meta["gan_app.head"] == "denoise" and '"width": 4' in meta["gan_app.model_config"]

    noisy = tmp_path / "noisy.png"
    pixels = np.random.default_rng(0).integers(0, 256, (24, 30, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(noisy)
    out = tmp_path / "out.png"
    gan_app(site, "run", "denoise", str(noisy), "--model", str(model), "-o", str(out))
    result = np.asarray(Image.open(out), dtype=np.float32)
    change = np.abs(result - pixels).mean() / 255
    # The generator starts as the identity (zero last layer); two Adam steps at lr 1e-3 move it a little.
    assert result.shape == pixels.shape and 0 < change < 0.1
