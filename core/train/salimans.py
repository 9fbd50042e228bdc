"""The engine's options from Salimans et al. (2016) that work for every head: feature matching
(`train.feature_matching_weight`) and historical averaging (`train.historical_averaging_weight`).

- Feature matching: the generator also minimises || E f(real) - E f(G(z)) ||² where f is an
  intermediate critic feature. A critic offers one as `Verdict.extras["features"]` ((B, ...),
  or a list of them for a multi-scale critic); the real side is judged without gradient by the
  frozen critic of the G step. It is added to the adversarial term, not put in its place:
  `adv_weight=0` means content-only training without a critic in this engine.
- Historical averaging: each player adds w * sum_p || theta_p - mean_{i<=t} theta_p[i] ||² to its
  loss; the running means are updated after its optimizer step and saved in the checkpoint
  (`history_G.*`, `history_D.*`), so `--resume` continues them.

The other techniques of the paper are layers a head builds into its models (minibatch
discrimination, virtual batch norm: `gan_app.losses.improved`); one-sided label smoothing is
`train.label_smoothing` of the games (`gan_app.losses.adversarial`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gan_app.errors import UserError
from gan_app.losses.improved import HistoricalAveraging, feature_matching_loss
from gan_app.train.objective import Verdict


def feature_matching_term(weight: float, d_real: Verdict, d_fake: Verdict,
                          head: str) -> dict[str, tuple[float, torch.Tensor]]:
    """{"feature_matching": (weight, loss)} from the critic's features on real and fake; {} when weight is 0."""
    if not weight:
        return {}
    if "features" not in d_fake.extras or "features" not in d_real.extras:
        raise UserError(f"train.feature_matching_weight needs a critic that exposes intermediate features "
                        f"(Verdict.extras['features']); the {head} head's does not: "
                        "pass --set train.feature_matching_weight=0")
    return {"feature_matching": (weight, feature_matching_loss(d_real.extras["features"], d_fake.extras["features"]))}


class History:
    """Historical averaging of both players: one `HistoricalAveraging` per module, by player name."""

    def __init__(self, weight: float, players: dict[str, nn.Module | None]) -> None:
        """`players`: "G"/"D" -> the plain module (not a DDP wrapper); None players (no D) are skipped."""
        self.weight = weight
        self.models = {name: m for name, m in players.items() if m is not None}
        self.averages = {name: HistoricalAveraging(m) for name, m in self.models.items()}  # buffers on m's device

    def term(self, player: str) -> dict[str, tuple[float, torch.Tensor]]:
        """{"historical": (weight, squared distance to the running mean)} for `player`'s loss."""
        return {"historical": (self.weight, self.averages[player].penalty(self.models[player]))}

    def update(self, player: str) -> None:
        """Fold `player`'s parameters (just stepped) into its running mean."""
        self.averages[player].update(self.models[player])

    def modules(self) -> dict[str, Any]:
        """The running means as checkpoint modules: {"history_G": ..., "history_D": ...}."""
        return {f"history_{name}": average for name, average in self.averages.items()}
