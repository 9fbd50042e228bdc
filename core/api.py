"""The Python API: `gan_app.load(name)` and the model objects it returns.

    import gan_app
    deblur = gan_app.load("deblur")                 # a head, a named/user model or an .onnx path
    sharp = deblur(photo)                           # numpy (H, W, C) uint8/uint16/float or a PIL image
    sharp = deblur.process(photo, tile=512, blur_scale=2)
    sharper = deblur.with_ensemble(8)(photo)        # averaged over 8 flips/transposes: 8x the time
    streak = deblur.with_motion("auto")(photo)      # a long straight streak (a passing car) deconvolved first
    v2 = gan_app.load("deblur-v2")                  # one model for every image (the head routes JPEGs otherwise)
    faces = gan_app.load("conditional").generate(class_="Sneaker", n=8, seed=3)

This is the one inference path: `gan-app deblur|upscale|run` and the video path call the same
`ImageModel.restore`, so a program gets exactly the CLI's pixels (padding to the size
multiple, seamless tiling, alpha, 16-bit, grey/colour models). Torch-free: ONNX Runtime,
numpy and Pillow only. Image-to-image models come back as `ImageModel`; heads whose models
take something else (noise, a class, a caption) give their own object through the head
contract (`Head.api`), e.g. the conditional head's `.generate(class_=..., n=..., seed=...)`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from gan_app.errors import UserError
from gan_app.limits import DEFAULT_MAX_PIXELS
from gan_app.runtime.arrays import array_from_result, picture_from_array, picture_from_pil
from gan_app.runtime.images import Picture, output_channels, output_dtype, to_channels, to_pillow
from gan_app.runtime.blur_extent import auto_level, model_reach
from gan_app.runtime.ensemble import ensembled, parse_ensemble
from gan_app.runtime.motion import AUTO as MOTION_AUTO, parse_motion, remove_motion, resolve_motion
from gan_app.runtime.pyramid import AUTO, LEVELS, parse_level, require_same_size, restore_scale_aware
from gan_app.runtime.session import OnnxModel, is_model_path, load_model
from gan_app.runtime.tiling import infer_image


class ImageModel:
    """An image-to-image model (deblur, super-resolution, a paired translation) on ONNX Runtime.

    `model(image)` is `model.process(image)`. `onnx` is the underlying `OnnxModel` (its `spec`
    says scale, size multiple and value range; `card` is the model card). `ensemble` (1, 2, 4 or 8):
    every output is the mean over that many flips/transposes of the input (`gan_app.runtime.ensemble`).
    `motion` ("auto" or (length px, angle deg); same-size models): a straight motion blur is deconvolved
    out of every input before the model runs (`gan_app.runtime.motion`; opt-in, for straight streaks only).
    """

    def __init__(self, onnx: OnnxModel, ensemble: int = 1, motion: str | tuple[float, float] | None = None):
        if onnx.image_input() is None:
            raise UserError(f"model {onnx.path.name} (head {onnx.head}) does not take an image; "
                            f"use gan_app.load({onnx.head!r}).generate(...) or the head's own command")
        self.onnx = onnx
        self.ensemble = parse_ensemble(ensemble)
        self.runner = ensembled(onnx, self.ensemble)   # what every restore runs: `onnx` itself for 1
        self.motion = parse_motion(motion)
        if self.motion is not None:
            require_same_size(onnx)

    def with_ensemble(self, ensemble: int) -> "ImageModel":
        """The same model self-ensembled over `ensemble` (1, 2, 4 or 8) transforms: that many runs per image."""
        return ImageModel(self.onnx, ensemble, self.motion)

    def with_motion(self, motion: str | tuple[float, float] | None) -> "ImageModel":
        """The same model with a straight motion blur removed first: "auto" (estimated per image; per clip
        from its first frame), (length px, angle deg), or None / "off" (`gan_app.runtime.motion`)."""
        return ImageModel(self.onnx, self.ensemble, motion)

    @property
    def head(self) -> str:
        return self.onnx.head

    @property
    def scale(self) -> int:
        """Output size / input size (1 for deblur, 2 or 4 for super-resolution)."""
        return max(1, self.onnx.spec.scale)

    @property
    def path(self) -> Path:
        return self.onnx.path

    def require_head(self, head: str, kind: str) -> None:
        """A UserError unless this is a `head` model (see `OnnxModel.require_head`)."""
        self.onnx.require_head(head, kind)

    def __repr__(self) -> str:
        extra = (f", ensemble={self.ensemble}" if self.ensemble > 1 else "") + (f", motion={self.motion!r}" if self.motion else "")
        return f"ImageModel({self.path.name!r}, head={self.head!r}, scale={self.scale}{extra})"

    def __call__(self, image: Any, **options: Any) -> Any:
        return self.process(image, **options)

    def process(self, image: Any, *, tile: int | None = None, blur_scale: int | str | None = None,
                max_pixels: int = DEFAULT_MAX_PIXELS) -> Any:
        """The model's output for `image`, of the same kind (see `gan_app.runtime.arrays`).

        `image`: numpy (H, W) or (H, W, C) with C 1-4, uint8/uint16 (full range) or float in [0, 1];
        or a PIL image. `tile`: None automatic, 0 one run, N tiles of N px. `blur_scale` 1, 2 or 4:
        run a same-size model at that pyramid level (see `gan_app.runtime.pyramid`); "auto": at the level
        the blur's estimated extent asks for (`gan_app.runtime.blur_extent`); None (default): the model's own
        (`default_level`: auto for deblur-v1-camera, 1 for the others). `max_pixels`
        bounds the output size (H * scale * W * scale). Integer and PIL inputs are restored straight
        into integers (no float copy of the output is held).
        """
        from PIL import Image

        if isinstance(image, Image.Image):
            picture = picture_from_pil(image)
            self.check_size(picture.size, max_pixels)
            like = self.output_like(picture)
            return to_pillow(self.restore(picture, tile=tile, level=blur_scale, dtype=output_dtype(like)), like)
        picture, layout = picture_from_array(image)
        self.check_size(picture.size, max_pixels)
        dtype = layout.dtype.type if layout.dtype.kind == "u" else None
        result = self.restore(picture, tile=tile, level=blur_scale, dtype=dtype)
        return array_from_result(result, self.output_like(picture), layout)

    def check_size(self, size: tuple[int, int], max_pixels: int) -> None:
        """A UserError when an input of `size` (H, W) would give an output over `max_pixels`."""
        if max_pixels < 1:
            raise UserError(f"max_pixels (--max-pixels) must be >= 1, got {max_pixels}")
        height, width = size[0] * self.scale, size[1] * self.scale
        if height * width > max_pixels:
            raise UserError(f"the output would be {width}x{height} ({height * width / 1e6:.0f} MP), over the "
                            f"max_pixels limit {max_pixels}; raise it (--max-pixels) or pass a smaller input")

    def restore(self, picture: Picture, *, tile: int | None = None, level: int | str | None = None,
                dtype: type | None = None) -> np.ndarray:
        """Model output for `picture` in the output's channels (C of `output_like(picture)`, see
        `images.output_channels`): float32 (H * scale, W * scale, C) in [0, 1] (unclipped), or with
        `dtype` np.uint8 / np.uint16 its clipped, rounded full-range integers, made band by band so
        memory is the integer image plus one band of tiles (`gan_app.runtime.tiling.assemble`).

        `level` 2 or 4 runs a same-size model at that pyramid level (`gan_app.runtime.pyramid`), "auto" at the
        level the blur's estimated extent asks for (`resolve_level`), None the model's own (`default_level`).
        """
        onnx = self.onnx
        if self.motion is not None:
            picture = dataclasses.replace(picture, pixels=remove_motion(picture.pixels, self.motion))
        if len(onnx.spec.inputs) != 1:
            kinds = ", ".join(f"{i.name} ({i.kind})" for i in onnx.spec.inputs)
            raise UserError(f"model {onnx.path.name} takes {kinds}, not just an image")
        pixels = to_channels(picture.pixels, onnx.image_channels()).transpose(2, 0, 1)  # (C_model, H, W)
        level = self.resolve_level(pixels, level)
        options = dict(tile=tile, dtype=dtype, channels=output_channels(self.output_like(picture)))
        if level != 1:
            return restore_scale_aware(self.runner, pixels, level, **options).transpose(1, 2, 0)
        return infer_image(self.runner, pixels, **options).transpose(1, 2, 0)        # (H*s, W*s, C)

    def for_clip(self, first_frame: np.ndarray) -> "ImageModel":
        """The model to run on every frame of a clip whose first frame is `first_frame` (H, W, C): this one
        (a `RoutedImageModel` decides once per clip, so a clip never switches models between frames), with
        `motion="auto"` fixed to the streak estimated on `first_frame` (one deconvolution for every frame)."""
        if self.motion != MOTION_AUTO:
            return self
        return ImageModel(self.onnx, self.ensemble, resolve_motion(first_frame, MOTION_AUTO))

    @property
    def default_level(self) -> int | str:
        """The `blur_scale` used when none is given: the card's `default_blur_scale` (deblur-v1-camera: auto,
        for camera shots whose shake may be long), else 1 (full size)."""
        return parse_level((self.onnx.card or {}).get("default_blur_scale", 1))

    def resolve_level(self, pixels: np.ndarray, level: int | str | None) -> int:
        """The pyramid level to run `pixels` (C, H, W) at: `level` itself (1, 2 or 4), for "auto" the one
        `gan_app.runtime.blur_extent` estimates from the image (same-size models only), for None the
        model's `default_level` resolved the same way."""
        if level is None:
            level = self.default_level
        if level == AUTO:
            require_same_size(self.onnx)
            return auto_level(pixels, reach=model_reach(self.onnx))
        if level not in LEVELS:
            raise UserError(f"blur_scale (--blur-scale) must be {AUTO} or one of {', '.join(map(str, LEVELS))}, "
                            f"got {level!r}")
        return level

    def output_like(self, picture: Picture) -> Picture:
        """The picture whose mode the output takes: the input's, except that a grey-in, colour-out
        model (a colorizer) gives colour for grey inputs (L -> RGB, LA -> RGBA, 16-bit grey -> RGB)."""
        colour_model = self.onnx.image_channels() == 1 and self.onnx.spec.out_channels == 3
        if not colour_model or picture.pixels.shape[-1] != 1:
            return picture
        mode = "RGBA" if picture.alpha is not None else "RGB"
        return dataclasses.replace(picture, mode=mode, icc_profile=None)  # a grey ICC profile does not describe colour


class RoutedImageModel(ImageModel):
    """A head's models behind one object: each image goes to the one its head's `route` picks from the
    pixels (deblur: JPEG-compressed photos to the camera-shake model, others to the default;
    `Head.routed_models`). What `gan_app.load(head)` and the verb's default `--model auto` run, so the CLI
    and a program get the same pixels. It reads as the default model (`onnx`, `path`, `scale`); every
    routed model shares its head, scale and channels. The other models load on first use.
    """

    def __init__(self, head: Any, default: OnnxModel, paths: dict[str, Path], *, threads: int | None = None,
                 providers: list[str] | None = None, ensemble: int = 1, loaded: dict | None = None,
                 motion: str | tuple[float, float] | None = None):
        super().__init__(default, ensemble, motion)
        self.head_object, self.paths, self.threads, self.providers = head, paths, threads, providers
        self.loaded: dict[str, OnnxModel] = loaded if loaded is not None else {}

    def __repr__(self) -> str:
        extra = (f", ensemble={self.ensemble}" if self.ensemble > 1 else "") + (f", motion={self.motion!r}" if self.motion else "")
        return f"RoutedImageModel({self.path.name!r}, routed={sorted(self.paths)}{extra})"

    def with_ensemble(self, ensemble: int) -> "RoutedImageModel":
        return RoutedImageModel(self.head_object, self.onnx, self.paths, threads=self.threads, providers=self.providers,
                                ensemble=ensemble, loaded=self.loaded, motion=self.motion)

    def with_motion(self, motion: str | tuple[float, float] | None) -> "RoutedImageModel":
        return RoutedImageModel(self.head_object, self.onnx, self.paths, threads=self.threads, providers=self.providers,
                                ensemble=self.ensemble, loaded=self.loaded, motion=motion)

    def pick(self, pixels: np.ndarray) -> ImageModel:
        """The model for an image `pixels` (H, W, C): the routed one its head names, else the default."""
        name = self.head_object.route(pixels)
        if name is None or name not in self.paths:
            return ImageModel(self.onnx, self.ensemble, self.motion)
        if name not in self.loaded:
            self.loaded[name] = load_model(self.paths[name], threads=self.threads, providers=self.providers)
        return ImageModel(self.loaded[name], self.ensemble, self.motion)

    def for_clip(self, first_frame: np.ndarray) -> ImageModel:
        return self.pick(first_frame).for_clip(first_frame)

    def restore(self, picture: Picture, *, tile: int | None = None, level: int | str | None = None,
                dtype: type | None = None) -> np.ndarray:
        """`ImageModel.restore` by the model `pick` chooses for `picture` (at that model's default level
        when `level` is None)."""
        return self.pick(picture.pixels).restore(picture, tile=tile, level=level, dtype=dtype)


def routed(name: str | Path, *, threads: int | None = None, providers: list[str] | None = None,
           ensemble: int = 1) -> RoutedImageModel | None:
    """The `RoutedImageModel` that `name` means: a head (or its verb) that routes between shipped or user
    models, or `HEAD-auto`; None for anything else (a model name, a path, a head with one model). Routed
    models that are not installed are left out; with none left, None (the head's default alone)."""
    from gan_app.head import discover_heads, head_name
    from gan_app.paths import find_model

    text = str(name)
    if isinstance(name, Path) or is_model_path(text):
        return None
    heads = discover_heads()
    entry = heads.get(head_name(text.removesuffix("-auto"), heads))
    head = entry.load() if entry is not None else None
    if head is None or not head.routed_models or text not in (head.name, head.verb, f"{head.name}-auto"):
        return None
    paths = {model: path for model in head.routed_models if (path := find_model(model)) is not None}
    if not paths:
        return None
    default = load_model(resolve(head.name), threads=threads, providers=providers)
    return RoutedImageModel(head, default, paths, threads=threads, providers=providers, ensemble=ensemble)


def _head_model(head: str, name: str) -> Path:
    """The model `name` of `head` (short names allowed, see `paths.find_head_model`), or a UserError
    listing that head's models."""
    from gan_app.paths import find_head_model, models_of

    path = find_head_model(head, name)
    if path is None:
        names = ", ".join(n for n, _, _ in models_of(head)) or "none installed"
        raise UserError(f"no {head} model called {name!r}; {head} models: {names} (`gan-app models` lists them), "
                        "or pass a FILE.onnx")
    return path


def resolve(name_or_path: str | Path, head: str | None = None) -> str | Path:
    """What `name_or_path` loads: a path as given; a head name or verb gives that head's default model;
    with `head` set, any other name is one of that head's models (short names allowed, a UserError
    listing them otherwise); without, a shipped or user model name as given."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or is_model_path(name_or_path):
        return name_or_path
    from gan_app.head import discover_heads, head_name

    heads = discover_heads()              # one scan of the installed heads for the three lookups
    name = head_name(text, heads)
    if head is not None and name != head_name(head, heads):
        return _head_model(head, text)
    entry = heads.get(name)
    head = entry.load() if entry is not None else None
    return (head.default_model or name) if head is not None else text


def load(name_or_path: str | Path = "deblur", *, threads: int | None = None,
         providers: list[str] | None = None) -> Any:
    """The model called `name_or_path`, ready to call.

    `name_or_path`: a head or its verb (`"deblur"`, `"upscale"`, `"conditional"`: the shipped
    default), a shipped or user model (`"deblur-v1-camera"`, `"superres-x4-gan"`, a name given at
    export) or an `.onnx` path. `threads`: ONNX Runtime intra-op threads (default: all cores);
    `providers`: ONNX Runtime execution providers (default: CUDA when present, then CPU).
    A head that routes (deblur) gives a `RoutedImageModel`: each image to the model that serves it.
    Returns an `ImageModel`, or the head's own object for models that take no image.
    """
    auto = routed(name_or_path, threads=threads, providers=providers)
    if auto is not None:
        return auto
    onnx = load_model(resolve(name_or_path), threads=threads, providers=providers)
    from gan_app.head import discover_heads

    entry = discover_heads().get(onnx.head)
    head = entry.load() if entry is not None else None
    if head is not None:
        return head.api(onnx, threads=threads)
    return ImageModel(onnx)


def load_image(name_or_path: str | Path, *, threads: int | None = None, providers: list[str] | None = None,
               head: str | None = None, kind: str | None = None, ensemble: int = 1) -> ImageModel:
    """An `ImageModel` (what the CLI's image verbs use); `head` set: refuse another head's model
    (`kind` names the task in the message, e.g. "deblur"); `ensemble`: see `ImageModel`. A routing head's
    name, or `HEAD-auto`, gives its `RoutedImageModel` (see `load`)."""
    auto = routed(name_or_path, threads=threads, providers=providers, ensemble=ensemble)
    if auto is not None:
        return auto
    image_model = ImageModel(load_model(resolve(name_or_path, head), threads=threads, providers=providers), ensemble)
    if head is not None:
        image_model.require_head(head, kind or head)
    return image_model
