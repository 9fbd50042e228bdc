"""The class-conditional head object. Torch-free at import time: `gan-app generate` runs on ONNX Runtime."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from gan_app.config import RunConfig
from gan_app.errors import UserError
from gan_app.head import GraphInput, GraphSpec, Head


class ConditionalHead(Head):
    name = "conditional"
    verb = "generate"
    summary = "Generate images of a chosen class (conditional DCGAN; Fashion-MNIST model shipped)."
    recipes_ref = ".recipes"
    model_config_ref = ".model:ConditionalModelConfig"
    loss_config_ref = ".model:ConditionalLossConfig"
    data_config_ref = ".data:ConditionalDataConfig"
    api_ref = ".generate:ClassConditionalGenerator"
    classifier_verb = "conditional-classifier"

    def builtin_data(self) -> tuple[str, ...]:
        from .data import NAMED, SHAPES_NAMES
        return (*SHAPES_NAMES, *NAMED)

    def graph(self, model_cfg: Any) -> GraphSpec:
        names = list(model_cfg.class_names) or [str(i) for i in range(model_cfg.num_classes)]
        return GraphSpec(inputs=(GraphInput("z", "latent", ("B", model_cfg.z_dim)),
                                 GraphInput("label", "label", ("B",), "int64")),
                         value_range=(-1.0, 1.0), out_channels=model_cfg.channels,
                         extra={"class_names": names, "z_dim": model_cfg.z_dim, "resolution": model_cfg.resolution})

    def build(self, model_cfg: Any) -> tuple[Any, Any]:
        from .model import build_discriminator, build_generator
        return build_generator(model_cfg), build_discriminator(model_cfg)

    def dataset(self, run: RunConfig, split: str) -> Any:
        """Labelled images of `split` ("train", or "val"/"test": the test split), with their class names."""
        from .data import LabelledDataset, load_split

        m = run.model
        data = load_split(run.data, "train" if split == "train" else "test", m.channels, m.resolution)
        for note in data.notes:
            print(note, file=sys.stderr)
        return LabelledDataset(data)

    def complete_model(self, run: RunConfig, dataset: Any) -> Any:
        """The model config with the data's class names when it left them empty (the names do not change
        the architecture); a class-count mismatch is a UserError."""
        m, names = run.model, tuple(dataset.class_names)
        if len(names) != m.num_classes:
            raise UserError(f"{run.data.path} has {len(names)} classes but the model is built for "
                            f"{m.num_classes}; pass --set model.num_classes={len(names)}")
        return m if m.class_names else dataclasses.replace(m, class_names=names)

    def objective(self, run: RunConfig) -> Any:
        from .objective import ConditionalObjective
        m = run.model
        return ConditionalObjective(m.z_dim, run.loss.ac_weight if m.discriminator == "acgan" else 0.0)

    def evaluate(self, generator: Any, run: RunConfig, data: str | None, classifier: Any = None) -> dict:
        from .evaluate import evaluate_generator
        return evaluate_generator(generator, run, data, classifier=classifier)

    def card_info(self, run: RunConfig) -> dict:
        from .recipes import describe
        return describe(run)

    def inference_command(self):
        from .generate import generate_command
        return generate_command

    def extra_commands(self) -> dict:
        from .commands import classifier_command
        return {self.classifier_verb: classifier_command}


HEAD = ConditionalHead()
