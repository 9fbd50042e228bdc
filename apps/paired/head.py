"""The paired head object: pix2pix on any A -> B pairs, trained into a NAMED model with no code.

    gan-app train paired --data pairs/ --name colorize --out runs/colorize
    gan-app export paired --checkpoint runs/colorize/checkpoints/step_020000.safetensors
    gan-app run colorize photo.png

The name lives in `model.name` (checkpoint and ONNX metadata); export without `-o`
installs `<name>.onnx` + card in the user model folder, where discovery lists it as a head.
Torch-free at import time.
"""

from __future__ import annotations

from typing import Any

from gan_app.config import RunConfig
from gan_app.head import GraphInput, GraphSpec, Head


class PairedHead(Head):
    name = "paired"
    verb = None
    summary = "Any paired image-to-image task from A/ + B/ folders (pix2pix: U-Net + PatchGAN + L1); name it with --name."
    recipes_ref = ".recipes"
    model_config_ref = ".config:PairedModelConfig"
    data_config_ref = ".config:PairedDataConfig"
    loss_config_ref = ".config:PairedLossConfig"
    model_name_field = "name"

    def graph(self, model_cfg: Any) -> GraphSpec:
        return GraphSpec(inputs=(GraphInput("image", "image", ("B", model_cfg.in_channels, "H", "W")),),
                         value_range=(0.0, 1.0), out_channels=model_cfg.out_channels, scale=1,
                         size_multiple=2 ** model_cfg.depth)

    def build(self, model_cfg: Any) -> tuple[Any, Any]:
        from .model import build
        return build(model_cfg)

    def dataset(self, run: RunConfig, split: str) -> Any:
        from .data import build_dataset
        m = run.model
        return build_dataset(run.data, m.in_channels, m.out_channels, 2 ** m.depth)

    def objective(self, run: RunConfig) -> Any:
        from gan_app.losses.content import content_loss
        from gan_app.train.objective import ImageToImageObjective

        loss = run.loss
        fn = content_loss(loss.content_loss, ("conv3_3",), loss.vgg_weights, (0.0, 1.0))
        # pix2pix: D sees concat(A, B) or concat(A, G(A)), so it learns whether B is right for this A
        return ImageToImageObjective(loss.content_loss, fn, loss.content_weight, critic_sees_source=True)

    def evaluate(self, generator: Any, run: RunConfig, data: str | None) -> dict:
        from .evaluate import evaluate_generator
        return evaluate_generator(generator, run, data)

    def card_info(self, run: RunConfig) -> dict:
        from .recipes import describe
        return describe(run)


HEAD = PairedHead()
