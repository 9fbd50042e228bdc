"""VGG19 perceptual (feature) loss: DeblurGAN's conv3_3, SRGAN's VGG54, or a weighted mix.

Layer names follow the paper convention, block_index: `convB_K` is the output of the K-th
convolution of block B *before* its ReLU, `reluB_K` the same feature *after* the ReLU.
DeblurGAN (v1 and v2 code) uses `conv3_3` (torchvision features[14], pre-activation);
ESRGAN uses `conv5_4` (pre-activation); the SRGAN paper's VGG54 is `relu5_4`.

Inputs are (B, 3, H, W) RGB in `input_range` (default [0, 1]); they are mapped to [0, 1] and
normalised with the ImageNet mean/std the weights were trained with. The VGG is truncated
after the deepest requested layer, frozen (no parameter requires grad) and always in eval
mode. Target features are computed without gradient; the loss trains only `pred`'s producer.

Weights (`weights=`):
- "imagenet": torchvision's VGG19_Weights.IMAGENET1K_V1, from the torch hub cache
  (TORCH_HOME) or downloaded when `download=True`. Missing and not downloadable -> UserError.
- a path: a VGG19 state dict as .safetensors, or torchvision's .pth (read with
  torch.load(weights_only=True), never a full unpickle); `features.N.*` or bare `N.*` keys.
- None or "random": a randomly initialised VGG (fixed seed) for tests and offline
  experiments only. It warns, and `weights_description` says "random (NOT ImageNet)".
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Mapping, Sequence
from urllib.parse import urlparse

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models import VGG19_Weights
from torchvision.models.vgg import cfgs, make_layers

from gan_app.errors import UserError

_IMAGENET = VGG19_Weights.IMAGENET1K_V1
_OFFLINE_HINT = (
    "pass --perceptual-weights PATH (a local VGG19 .pth/.safetensors state dict), "
    "or --perceptual-weights random (weights=None) for offline experiments only"
)
RANDOM_DESCRIPTION = "random (NOT ImageNet)"


def vgg19_layer_indices() -> dict[str, int]:
    """Name -> index in torchvision's `vgg19().features`: conv1_1 -> 0, relu1_1 -> 1, ..., relu5_4 -> 35."""
    names, idx, block, conv = {}, 0, 1, 0
    for v in cfgs["E"]:
        if v == "M":  # max-pool closes a block
            block, conv, idx = block + 1, 0, idx + 1
            continue
        conv += 1
        names[f"conv{block}_{conv}"], names[f"relu{block}_{conv}"] = idx, idx + 1
        idx += 2
    return names


def _imagenet_state_dict(download: bool) -> dict[str, Tensor]:
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(_IMAGENET.url).path).name
    if not cached.exists() and not download:
        raise UserError(f"ImageNet VGG19 weights are not cached at {cached} and download is off; {_OFFLINE_HINT}")
    try:  # the normal torchvision way: hub cache first, then a hash-checked download
        return _IMAGENET.get_state_dict(progress=False, check_hash=True, weights_only=True)
    except (OSError, RuntimeError) as err:  # URLError is an OSError; a bad hash is a RuntimeError
        raise UserError(
            f"cannot get ImageNet VGG19 weights ({type(err).__name__}: {err}); put {cached.name} in "
            f"{cached.parent} or {_OFFLINE_HINT}"
        ) from None


def _file_state_dict(path: Path) -> dict[str, Tensor]:
    if not path.is_file():
        raise UserError(f"perceptual weights file {path} does not exist; {_OFFLINE_HINT}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        with warnings.catch_warnings():   # torch warns about the pickle protocol on stderr
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:   # torch's message (5 lines) suggests weights_only=False: never
        raise UserError(f"cannot read {path} as a weights-only state dict: it pickles more than tensors, which is "
                        "never run; use .safetensors or a .pth of tensors only") from None
    except Exception as err:  # noqa: BLE001  any unreadable file is the user's to fix
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(
            f"cannot read {path} as a weights-only state dict ({reason}); use .safetensors or a .pth"
        ) from None


def _load_features(features: nn.Sequential, state: Mapping[str, Tensor], source: str) -> None:
    """Copy the VGG19 feature weights the truncated `features` needs from a full or features-only dict."""
    prefix = "features." if any(k.startswith("features.") for k in state) else ""
    wanted = features.state_dict()
    missing = [k for k in wanted if prefix + k not in state]
    if missing:
        raise UserError(f"{source} is not a VGG19 state dict: it lacks {prefix}{missing[0]}; {_OFFLINE_HINT}")
    try:
        features.load_state_dict({k: state[prefix + k] for k in wanted})
    except RuntimeError as err:
        raise UserError(f"{source} does not fit VGG19 ({str(err).splitlines()[-1].strip()})") from None


def _random_init_(features: nn.Sequential) -> None:
    """torchvision's VGG initialisation (make_layers alone leaves PyTorch's default conv init)."""
    for m in features.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)


class VGGPerceptualLoss(nn.Module):
    """sum_l w_l * criterion(phi_l(pred), phi_l(target)) over VGG19 layers l; scalar fp32.

    layers: a name ("conv3_3"), a sequence of names (weight 1 each) or a dict name -> weight.
    criterion: "l2" (mean squared error) or "l1" (mean absolute error) per layer.
    input_range: (low, high) of the images, e.g. (0, 1) or (-1, 1).
    """

    def __init__(
        self,
        layers: str | Sequence[str] | Mapping[str, float] = ("conv3_3",),
        weights: str | os.PathLike | None = "imagenet",
        criterion: str = "l2",
        input_range: tuple[float, float] = (0.0, 1.0),
        download: bool = True,
    ) -> None:
        super().__init__()
        index = vgg19_layer_indices()
        layer_weights = {layers: 1.0} if isinstance(layers, str) else (
            dict(layers) if isinstance(layers, Mapping) else {name: 1.0 for name in layers})
        bad = [name for name in layer_weights if name not in index]
        if bad or not layer_weights:
            raise UserError(
                f"unknown VGG19 layer(s) {bad or '(none given)'}; choose from conv1_1..conv5_4 / relu1_1..relu5_4"
            )
        if criterion not in ("l1", "l2"):
            raise UserError(f"perceptual criterion must be 'l1' or 'l2', got {criterion!r}")
        low, high = input_range
        if not high > low:
            raise ValueError(f"input_range must be (low, high) with high > low, got {input_range}")
        self.layer_weights = {index[name]: (name, float(w)) for name, w in layer_weights.items()}
        self.criterion, self.input_range = criterion, (float(low), float(high))

        with torch.random.fork_rng(devices=[]):  # fixed seed: reproducible random VGG, caller's RNG untouched
            torch.manual_seed(0)
            features = make_layers(cfgs["E"])[: max(self.layer_weights) + 1]  # truncated VGG19 features
            self.weights_description = self._init_weights(features, weights, download)
        for m in features:
            if isinstance(m, nn.ReLU):
                m.inplace = False  # an in-place ReLU would overwrite a recorded pre-activation convB_K
        features.requires_grad_(False)
        self.features = features.eval()
        transform = _IMAGENET.transforms()
        self.register_buffer("mean", torch.tensor(transform.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(transform.std).view(1, 3, 1, 1), persistent=False)

    @staticmethod
    def _init_weights(features: nn.Sequential, weights: str | os.PathLike | None, download: bool) -> str:
        if weights is None or weights == "random":
            warnings.warn(
                "VGGPerceptualLoss uses RANDOM VGG19 weights (NOT ImageNet): the perceptual loss is not "
                "meaningful for real training; use this only for tests and offline experiments",
                UserWarning,
                stacklevel=3,
            )
            _random_init_(features)
            return RANDOM_DESCRIPTION
        if weights == "imagenet":
            _load_features(features, _imagenet_state_dict(download), "the ImageNet VGG19 file")
            return "imagenet (torchvision VGG19_Weights.IMAGENET1K_V1)"
        path = Path(weights).expanduser()
        _load_features(features, _file_state_dict(path), str(path))
        return f"file {path}"

    def train(self, mode: bool = True) -> "VGGPerceptualLoss":
        super().train(mode)
        self.features.eval()  # frozen feature extractor: always eval, whatever the caller's mode
        return self

    def _features(self, x: Tensor) -> dict[int, Tensor]:
        low, high = self.input_range
        h = ((x - low) / (high - low) - self.mean) / self.std  # (B, 3, H, W), ImageNet-normalised
        out = {}
        for i, layer in enumerate(self.features):
            h = layer(h)
            if i in self.layer_weights:
                out[i] = h
        return out

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """Perceptual distance of pred to target, both (B, 3, H, W) in `input_range`."""
        if pred.dim() != 4 or pred.shape[1] != 3 or pred.shape != target.shape:
            shapes = f"{tuple(pred.shape)}, {tuple(target.shape)}"
            raise ValueError(f"expected two (B, 3, H, W) images of one shape, got {shapes}")
        crit = F.mse_loss if self.criterion == "l2" else F.l1_loss
        fake = self._features(pred)
        with torch.no_grad():
            real = self._features(target)
        terms = [w * crit(fake[i].float(), real[i].float()) for i, (_, w) in self.layer_weights.items()]
        return torch.stack(terms).sum()

    def extra_repr(self) -> str:
        layers = {name: w for name, w in self.layer_weights.values()}
        return (
            f"layers={layers}, criterion={self.criterion!r}, input_range={self.input_range}, "
            f"weights={self.weights_description!r}"
        )
