"""Feature networks for Fréchet distance and Inception-Score-style scores, each with its name.

A `FeatureNetwork` turns images into (features (N, F), class probabilities (N, K)); its
`name` is reported next to every number it produced, because FD / IS values are only
comparable under the same network.

- `inception_v3(...)`: torchvision's ImageNet Inception v3 (pool features, 2048-d; 1000-class
  softmax), the network of the published FID/IS protocols. Loaded the normal torchvision way
  (torch hub cache under TORCH_HOME, optional download) or from a local weights file; when
  none is available it raises a UserError saying so. It is never silently replaced.
- `ClassifierNetwork(model, name)`: any classifier module with `features(x)` (penultimate
  layer) and `forward(x)` (logits), e.g. a head's domain classifier.

`compute(network, batches)` runs a network over an iterable of image batches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_app.errors import UserError

INCEPTION_NAME = "torchvision Inception v3 (ImageNet IMAGENET1K_V1), pool3 2048-d features"


class FeatureNetwork:
    """Base: `name`, `value_range` of its input images, `__call__(images) -> (features, probs)`."""

    name: str = ""
    value_range: tuple[float, float] = (-1.0, 1.0)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class ClassifierNetwork(FeatureNetwork):
    """A classifier with `features(x)` -> (B, F) and `forward(x)` -> logits (B, K); images in `value_range`."""

    def __init__(self, model: nn.Module, name: str, value_range: tuple[float, float] = (-1.0, 1.0)):
        self.model, self.name, self.value_range = model.eval(), name, value_range
        head = getattr(model, "out", None)
        if not callable(getattr(model, "features", None)) or not isinstance(head, nn.Linear):
            raise TypeError("ClassifierNetwork needs a model with features(x) and a final nn.Linear `out`")

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.model.features(images)  # (B, F)
        return feats, F.softmax(self.model.out(feats), dim=1)  # (B, F), (B, K)


class InceptionNetwork(FeatureNetwork):
    """torchvision Inception v3 on images in [0, 1] (any size, any of 1 or 3 channels)."""

    name = INCEPTION_NAME
    value_range = (0.0, 1.0)

    def __init__(self, model: nn.Module):
        self.model = model.eval()
        self.model.fc, self._fc = nn.Identity(), model.fc  # keep the classifier aside: pool features out

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images  # (B, 3, H, W)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        mean = torch.tensor([0.485, 0.456, 0.406], device=x.device).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225], device=x.device).view(1, 3, 1, 1)
        feats = self.model((x - mean) / std)  # (B, 2048)
        return feats, F.softmax(self._fc(feats), dim=1)  # (B, 2048), (B, 1000)


def inception_v3(weights: str | Path | None = None, download: bool = False) -> InceptionNetwork:
    """ImageNet Inception v3 from `weights` (a local .pth/.safetensors state dict) or the torch hub cache.

    Raises UserError when the weights are neither given, cached nor downloadable; there is no
    fallback network, so a reported number always comes from the network its name says.
    """
    from torchvision.models import Inception_V3_Weights
    from torchvision.models import inception_v3 as build

    enum = Inception_V3_Weights.IMAGENET1K_V1
    model = build(weights=None, aux_logits=True, init_weights=False, num_classes=1000)
    if weights is not None:
        state = _read_state(Path(weights))
    else:
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(enum.url).path).name
        if not cached.exists() and not download:
            raise UserError(f"Inception v3 weights are not cached at {cached}; allow the download, pass the "
                            "weights file, or use a domain classifier (its name is reported with every number)")
        try:
            state = enum.get_state_dict(progress=False, check_hash=True, weights_only=True)
        except (OSError, RuntimeError) as err:
            raise UserError(f"cannot get Inception v3 weights ({type(err).__name__}); put {cached.name} in "
                            f"{cached.parent} or pass the weights file") from None
    model.load_state_dict(state)
    return InceptionNetwork(model)


def _read_state(path: Path) -> dict:
    if not path.is_file():
        raise UserError(f"Inception weights file {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file
        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


def compute(network: FeatureNetwork, batches: Iterable[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """(features (N, F), probs (N, K)) as float64 numpy over every image batch (B, C, H, W)."""
    feats, probs = [], []
    for images in batches:
        if images.dim() != 4:
            raise ValueError(f"image batches must be (B, C, H, W), got {tuple(images.shape)}")
        f, p = network(images)
        feats.append(f.double().cpu().numpy())
        probs.append(p.double().cpu().numpy())
    if not feats:
        raise ValueError("no images to compute features of")
    return np.concatenate(feats), np.concatenate(probs)
