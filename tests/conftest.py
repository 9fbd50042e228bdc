"""Test-wide isolation: user models go to a temporary GAN_APP_HOME, never to the developer's home.

Set in the environment (not only monkeypatched per test) so CLI subprocesses inherit it.
"""

import os
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def isolated_app_home():
    """GAN_APP_HOME -> a fresh temporary folder for the whole session."""
    before = os.environ.get("GAN_APP_HOME")
    with tempfile.TemporaryDirectory(prefix="gan-app-home-") as home:
        os.environ["GAN_APP_HOME"] = home
        yield home
    if before is None:
        os.environ.pop("GAN_APP_HOME", None)
    else:
        os.environ["GAN_APP_HOME"] = before


@pytest.fixture(scope="session")
def train_tiny(tmp_path_factory):
    """A factory: `make(head, overrides)` -> (run config, run dir, last checkpoint) of the head's
    `tiny` recipe with `overrides` (`section.field=value`), trained through the one engine on CPU."""
    import torch

    from gan_app.config import apply_overrides
    from gan_app.discovery import get_head
    from gan_app.train.loop import fit

    def make(head_name: str, overrides: list[str] = ()):
        head = get_head(head_name)
        torch.set_num_threads(1)
        run = apply_overrides(head.recipe("tiny"), ["train.device=cpu", "train.cpu_threads=1", *overrides])
        out = tmp_path_factory.mktemp(f"{head_name}-run")
        return run, out, fit(head, run, out)

    return make


@pytest.fixture(scope="session")
def export_tiny(tmp_path_factory):
    """A factory: `make(head, checkpoint)` -> the checkpoint exported to ONNX (parity checked by the exporter)."""
    from gan_app.export import export_checkpoint

    def make(head_name: str, checkpoint):
        path = tmp_path_factory.mktemp(f"{head_name}-onnx") / f"tiny-{head_name}.onnx"
        export_checkpoint(head_name, checkpoint, path)
        return path

    return make


@pytest.fixture(scope="session")
def edited():
    """`edited(data, "a.b.0.c", value)`: a deep copy of nested JSON `data` with that field set
    (`value` KeyError: deleted); list items by index. For crafting broken headers and metadata."""
    import copy

    def edit(data, dotted, value):
        data = copy.deepcopy(data)
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
        return data

    return edit
