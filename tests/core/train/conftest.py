"""Tiny toy runs for the engine tests: a 2-layer 16-wide MLP GAN on 512 points, CPU."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest single-threaded (and CI cores are shared)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_run():
    """A factory: the toy `tiny` recipe, made smaller and quieter, with `train.*` overrides."""
    from gan_app.apps.toy.head import HEAD

    def make(**train):
        run = HEAD.recipe("tiny")
        run.model.width, run.model.depth = 16, 2
        run.data.size = 512
        run.train.batch_size = 32
        run.train.sample_every = 0
        for key, value in train.items():
            if not hasattr(run.train, key):
                raise AttributeError(key)
            setattr(run.train, key, value)
        return run

    return make
