"""Packaging: core/ installs as `gan_app`, apps/ as `gan_app.apps`, weights/ as `gan_app.weights`.

setup.py computes the package list from the tree; these tests check that list against the
folders (fast), then a real wheel and a real editable install in a throwaway venv (slow).
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"core": "gan_app", "apps": "gan_app.apps", "weights": "gan_app.weights"}  # fixed by the product


def setup_script() -> dict:
    """setup.py's globals, without running `setup()` (it only runs as a script)."""
    return runpy.run_path(str(ROOT / "setup.py"))


def code_folders(folder: str) -> dict[str, Path]:
    """Dotted package name -> folder, for every folder under `folder` that holds Python files."""
    base = ROOT / folder
    found = {}
    for path, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
        here = Path(path)
        if here == base or any(f.endswith(".py") for f in files):
            found[".".join((MAPPING[folder], *here.relative_to(base).parts))] = here
    return found


def test_every_package_folder_is_in_the_package_list():
    script = setup_script()
    assert script["PACKAGE_DIR"] == {package: folder for folder, package in MAPPING.items()}
    listed = script["packages"]()
    folders = {name: path for folder in MAPPING for name, path in code_folders(folder).items()}
    missing_init = [str(p.relative_to(ROOT)) for p in folders.values() if not (p / "__init__.py").is_file()]
    assert not missing_init, f"folders with Python files but no __init__.py (left out of a wheel): {missing_init}"
    assert sorted(folders) == listed
    assert {"gan_app.train", "gan_app.apps.deblur", "gan_app.apps.text2image"} <= set(listed)


def _run(*args: str, cwd: Path) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_wheel_holds_every_package_the_package_data_and_the_command(tmp_path):
    _run(sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path), cwd=tmp_path)
    (wheel,) = tmp_path.glob("gan_app-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    for package in setup_script()["packages"]():
        assert package.replace(".", "/") + "/__init__.py" in names, package
    shipped = {f"gan_app/weights/{p.relative_to(ROOT / 'weights').as_posix()}"
               for p in (ROOT / "weights").glob("*/*") if p.suffix in (".onnx", ".json", ".safetensors", ".md")}
    assets = {f"gan_app/apps/{p.relative_to(ROOT / 'apps').as_posix()}" for p in (ROOT / "apps").glob("*/assets/*")}
    assert shipped and assets and (shipped | assets) <= names
    assert not any(n.startswith(("core/", "apps/", "tests/", "weights/")) for n in names)  # only under gan_app/
    assert "gan-app = gan_app.apps.cli:main" in entry_points


@pytest.mark.slow
def test_editable_install_maps_the_source_folders(tmp_path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", str(venv), cwd=tmp_path)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(str(python), "-m", "pip", "install", "--no-deps", "-q", "-e", str(ROOT), cwd=tmp_path)
    packages = setup_script()["packages"]()
    probe = ("import importlib.resources, importlib.util, json, sys\n"
             "names = json.loads(sys.argv[1])\n"
             "origins = {n: importlib.util.find_spec(n).origin for n in names}\n"
             "card = importlib.resources.files('gan_app.weights').joinpath('deblur/deblur-v1.json').is_file()\n"
             "print(json.dumps({'origins': origins, 'card': card}))")
    # from another folder (no source tree on sys.path) and without dependencies: only the finder's map
    found = json.loads(_run(str(python), "-c", probe, json.dumps(packages), cwd=tmp_path))
    folder_of = {package: folder for folder, package in MAPPING.items()}
    for name, origin in found["origins"].items():
        root = next(p for p in sorted(folder_of, key=len, reverse=True) if name == p or name.startswith(p + "."))
        rel = name[len(root):].lstrip(".").replace(".", "/")
        assert Path(origin) == (ROOT / folder_of[root] / rel / "__init__.py").resolve(), name
    assert found["card"]
