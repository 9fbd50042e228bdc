"""The base install (no torch) runs every inference verb: torch, torchvision and kornia are made unimportable."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

BLOCKED = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("torch", "torchvision", "kornia", "albumentations"):
            raise ImportError(f"No module named {name!r}")
sys.meta_path.insert(0, Block())
sys.argv = ["gan-app", *sys.argv[1:]]
from gan_app.apps.cli import main
main()
"""


def _gan_app(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_inference_verbs_work_without_torch(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(tmp_path / "p.png")
    runs = {
        "heads": _gan_app("heads", cwd=tmp_path),
        "models": _gan_app("models", cwd=tmp_path),
        "deblur": _gan_app("deblur", "p.png", cwd=tmp_path),
        "upscale": _gan_app("upscale", "p.png", "--scale", "2", cwd=tmp_path),
        "generate": _gan_app("generate", "--class", "Sneaker", "-n", "2", "--seed", "1", cwd=tmp_path),
        "text2img": _gan_app("text2img", "a red circle", "-n", "2", "--seed", "1", cwd=tmp_path),
        "help": _gan_app("--help", cwd=tmp_path),
    }
    for verb, done in runs.items():
        assert done.returncode == 0 and "Traceback" not in done.stderr, (verb, done.stderr)
    assert "pip install 'gan-app[train]'" in runs["heads"].stdout
    for name in ("p_deblurred.png", "p_x2.png", "generated.png", "text2img.png"):
        assert (tmp_path / name).is_file(), name
    train = _gan_app("train", "deblur", "--recipe", "tiny", cwd=tmp_path)
    assert train.returncode != 0 and "gan-app[train]" in train.stderr and "Traceback" not in train.stderr
