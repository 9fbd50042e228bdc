"""In-tree PEP 517 backend: setuptools, with the package list computed from the tree.

Why not plain pyproject config: the repository keeps `core/`, `apps/` and `weights/` at the
top level but installs them under ONE namespace (`gan_app`, `gan_app.apps`,
`gan_app.weights`). setuptools maps folders to package names with `package_dir` (and its
editable finder honours the map), but it cannot *discover* subpackages under a renamed
root; hatchling renames in wheels but refuses editable installs with such a rename. This
wrapper lists the subpackages so that adding a head stays "one new folder under apps/".
"""

from pathlib import Path

import setuptools
from setuptools import build_meta as _meta
from setuptools.build_meta import *  # noqa: F401,F403  (re-export the PEP 517 hooks)

ROOTS = {"gan_app": "core", "gan_app.apps": "apps", "gan_app.weights": "weights"}


def _packages() -> list[str]:
    names = []
    for package, folder in ROOTS.items():
        base = Path(folder)
        names.append(package)
        for init in sorted(base.rglob("__init__.py")):
            rel = init.parent.relative_to(base)
            if rel.parts and "__pycache__" not in rel.parts:
                names.append(".".join((package, *rel.parts)))
    # gan_app.apps lives in its own folder: drop the core-relative duplicate if one exists.
    return sorted(set(names))


class _Backend(_meta._BuildMetaBackend):
    def run_setup(self, setup_script="setup.py"):
        setuptools.setup(packages=_packages(), package_dir=ROOTS)


_backend = _Backend()
get_requires_for_build_wheel = _backend.get_requires_for_build_wheel
get_requires_for_build_sdist = _backend.get_requires_for_build_sdist
get_requires_for_build_editable = _backend.get_requires_for_build_editable
prepare_metadata_for_build_wheel = _backend.prepare_metadata_for_build_wheel
prepare_metadata_for_build_editable = _backend.prepare_metadata_for_build_editable
build_wheel = _backend.build_wheel
build_sdist = _backend.build_sdist
build_editable = _backend.build_editable
