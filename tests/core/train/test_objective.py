"""The default sample picture of image heads: rows mapped to [0, 1], resized, grey made RGB."""

from __future__ import annotations

import torch

from gan_app.train.objective import GanObjective


def test_sample_grid_maps_range_and_aligns_rows():
    b = 2
    batch = {"source": torch.full((b, 1, 4, 4), -1.0), "target": torch.full((b, 3, 8, 8), 1.0)}
    fake = torch.zeros(b, 3, 8, 8)
    grid = GanObjective().sample_grid(batch, fake, (-1.0, 1.0))
    pad = 2
    assert grid.shape == (3, 3 * 8 + 4 * pad, b * 8 + (b + 1) * pad)
    cell = lambda row, col: grid[:, pad + row * (8 + pad):(row + 1) * (8 + pad), pad + col * (8 + pad):(col + 1) * (8 + pad)]  # noqa: E731
    assert torch.equal(cell(0, 1), torch.zeros(3, 8, 8))      # source -1 -> 0, upsampled, grey -> RGB
    assert torch.equal(cell(1, 0), torch.full((3, 8, 8), 0.5))  # fake 0 -> 0.5
    assert torch.equal(cell(2, 1), torch.ones(3, 8, 8))       # target 1 -> 1
