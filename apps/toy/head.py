"""The toy head: the seeds' 2-D experiments, trained by the one engine like any other head.

`gan-app toy ring|sine` (see command.py) trains the default recipe and reports mode
coverage and the high-quality fraction; `gan-app train toy` works too. Torch-free at
import time.
"""

from __future__ import annotations

from typing import Any

from gan_app.config import RunConfig
from gan_app.head import GraphInput, GraphSpec, Head

EVAL_SAMPLES = 10_000


class ToyHead(Head):
    name = "toy"
    verb = None
    summary = "2-D toy GANs (8-Gaussian ring, sine curve): mode coverage in seconds on CPU."
    recipes_ref = ".recipes"
    model_config_ref = ".config:ToyModelConfig"
    data_config_ref = ".config:ToyDataConfig"

    def extra_commands(self) -> dict:
        from .command import toy_command
        return {"toy": toy_command}

    def graph(self, model_cfg: Any) -> GraphSpec:
        return GraphSpec(inputs=(GraphInput("z", "latent", ("B", model_cfg.z_dim)),), output="points",
                         value_range=(-1.0, 1.0), out_channels=2, extra={"output_shape": ["B", 2]})

    def build(self, model_cfg: Any) -> tuple[Any, Any]:
        from .model import build
        return build(model_cfg)

    def dataset(self, run: RunConfig, split: str) -> Any:
        from .data import ToyPoints
        seed = run.train.seed if split == "train" else run.train.seed + 1
        return ToyPoints(run.data, run.model.z_dim, seed)

    def objective(self, run: RunConfig) -> Any:
        from .model import ToyObjective
        return ToyObjective(run.data)

    def evaluate(self, generator: Any, run: RunConfig, data: str | None) -> dict:
        """Coverage and quality of 10,000 points from fresh latents (seeded by train.seed)."""
        import torch

        from .metrics import toy_metrics

        device = next(generator.parameters()).device
        z = torch.randn(EVAL_SAMPLES, run.model.z_dim, generator=torch.Generator().manual_seed(run.train.seed))
        with torch.no_grad():
            points = generator(z.to(device)).float().cpu()  # (N, 2)
        return toy_metrics(points, run.data)

    def card_info(self, run: RunConfig) -> dict:
        t = run.train
        penalty = f" + R1 (gamma {t.r1_weight:g})" if t.r1_weight else ""
        return {"data": f"synthetic 2-D {run.data.kind} ({run.data.modes} modes, sigma {run.data.sigma:g})",
                "losses": [f"{t.loss}{penalty}"]}


HEAD = ToyHead()
