"""Objectives: the default sample picture of image heads (rows mapped to [0, 1], resized, grey
made RGB), and a custom objective whose terms read the critic's extra outputs from the `Turn`."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from gan_app.apps.toy.head import ToyHead
from gan_app.apps.toy.model import ToyObjective, mlp
from gan_app.train import distributed
from gan_app.train.logging import read_metrics
from gan_app.train.loop import Trainer, fit
from gan_app.train.objective import GanObjective, Verdict


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


class RadiusCritic(nn.Module):
    """A toy D with an auxiliary head: points (B, 2) -> (logits (B, 1), radius estimate (B, 1))."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.body = mlp(2, width, width, 1)
        self.logit, self.radius = nn.Linear(width, 1), nn.Linear(width, 1)

    def forward(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.body(points))
        return self.logit(h), self.radius(h)


class RadiusObjective(ToyObjective):
    """D also regresses the radius of real points; G is pulled to points D estimates at radius 1.

    Both terms read the verdicts the engine hands them; `turns` records them for the test.
    """

    def __init__(self, data):
        super().__init__(data)
        self.turns = []

    def critic(self, discriminator, batch):
        def judge(points):
            logits, radius = discriminator(points)
            return Verdict(logits, {"radius": radius})
        return judge

    def discriminator_terms(self, batch, fake, turn):
        self.turns.append(("D", batch, fake, turn))
        radius = batch["point"].norm(dim=1, keepdim=True)  # (B, 1)
        return {"radius": (0.5, F.mse_loss(turn.d_real.extras["radius"], radius))}

    def generator_terms(self, batch, fake, turn):
        self.turns.append(("G", batch, fake, turn))
        return {"radius": (0.1, (turn.d_fake.extras["radius"] - 1).pow(2).mean())}


class RadiusHead(ToyHead):
    def build(self, model_cfg):
        return mlp(model_cfg.z_dim, 2, model_cfg.width, model_cfg.depth), RadiusCritic(model_cfg.width)

    def objective(self, run):
        return RadiusObjective(run.data)


def test_terms_get_the_critics_extras_of_their_own_step(tiny_run, tmp_path):
    trainer = Trainer(RadiusHead(), tiny_run(ema_decay=0.0), tmp_path, distributed.DistEnv(), torch.device("cpu"))
    d_before = copy.deepcopy(trainer.D_raw)
    terms = trainer.iteration()
    (d_player, d_batch, d_fake_images, d_turn), (g_player, g_batch, g_fake_images, g_turn) = trainer.obj.turns
    assert (d_player, g_player) == ("D", "G") and d_batch is g_batch  # n_critic 1: the G step reuses the batch
    # D's turn: the trainable D's verdicts on real and (detached) fake, before its update
    assert not d_fake_images.requires_grad and d_turn.d_real.extras["radius"].requires_grad
    with torch.no_grad():
        torch.testing.assert_close(d_turn.d_real.extras["radius"], d_before(d_batch["point"])[1])
        torch.testing.assert_close(d_turn.d_fake.logits, d_before(d_fake_images)[0])
    # G's turn: the updated, frozen D's verdict on the fake (no real one for this game); grad flows to G only
    assert g_turn.d_real is None and g_turn.critic is not d_turn.critic and g_turn.generator is trainer.G
    with torch.no_grad():
        torch.testing.assert_close(g_turn.d_fake.extras["radius"], trainer.D_raw(g_fake_images)[1])
    assert g_turn.d_fake.extras["radius"].requires_grad and not any(p.requires_grad for p in trainer.D_raw.parameters())
    expected = (g_turn.d_fake.extras["radius"].detach() - 1).pow(2).mean()
    torch.testing.assert_close(terms["G/radius"], expected)


def test_a_custom_objective_with_critic_extras_trains(tiny_run, tmp_path):
    fit(RadiusHead(), tiny_run(steps=4, log_every=1, n_critic=2, r1_weight=1.0), tmp_path)
    last = read_metrics(tmp_path / "metrics.jsonl")[-1]
    assert {"D/radius", "G/radius", "D/r1"} <= set(last) and last["step"] == 4
