"""Packaging: one import namespace, `gan_app`, over the fixed top-level folders.

`core/` installs as `gan_app`, `apps/` as `gan_app.apps` and `weights/` as `gan_app.weights`,
through setuptools' `package_dir` (its editable installs honour the same map). setuptools
cannot discover subpackages under a renamed root, so this script lists them: every folder
holding an `__init__.py`. A new head stays one new folder under apps/, with no list to edit;
tests/test_packaging.py checks the list against the tree and both kinds of install.
Everything else (metadata, dependencies, package data) is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = {"gan_app": "core", "gan_app.apps": "apps", "gan_app.weights": "weights"}


def packages() -> list[str]:
    """Dotted names of every package under the roots of PACKAGE_DIR, e.g. "gan_app.apps.deblur"."""
    names = []
    for package, folder in PACKAGE_DIR.items():
        root = HERE / folder
        for init in root.rglob("__init__.py"):
            names.append(".".join((package, *init.parent.relative_to(root).parts)))
    return sorted(names)


if __name__ == "__main__":  # pip runs this file as a script; the test imports `packages` only
    setup(packages=packages(), package_dir=PACKAGE_DIR)
