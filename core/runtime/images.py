"""Image files in and out, keeping what the user gave: mode, bit depth, alpha, size.

Reading honours EXIF orientation and normalises Pillow's many modes to grey or RGB
pixels plus an optional alpha plane, in the file's native integer dtype (uint8 or
uint16) so a 24 MP photo is not held as float. Writing turns model output (float in
[0, 1], or integers already in the depth written: `output_dtype`) back into the input's
mode: grey stays grey, alpha is restored (resized with Lanczos when the model upscales),
16-bit stays 16-bit where the format can hold it.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_app.errors import UserError
from gan_app.runtime.files import atomic_output

MIN_SIDE = 4  # pixels; smaller images carry too little context for any generator to mean anything
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as Pillow's RGB -> L
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
SIXTEEN_BIT_FORMATS = ("PNG", "TIFF")
PRINT_MODES = ("CMYK", "YCbCr")       # read as RGB, written back in their own mode where the format allows
PRINT_MODE_FORMATS = ("JPEG", "TIFF")  # the formats Pillow writes CMYK and YCbCr to; others get RGB
_REWRITE_MODES = {"1": "L", "PA": "RGBA", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB"}
_KEEP_MODES = ("L", "LA", "RGB", "RGBA", *PRINT_MODES)


@dataclass
class Picture:
    """A decoded image.

    pixels: (H, W, C) with C = 1 (grey) or 3 (RGB), uint8 or uint16 (full range).
    alpha: (H, W) same dtype, or None.
    mode: the Pillow mode to write back ("L", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "I;16").
    """

    pixels: np.ndarray
    alpha: np.ndarray | None
    mode: str
    icc_profile: bytes | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.pixels.shape[0], self.pixels.shape[1]


def full_scale(dtype: np.dtype) -> float:
    """The value that means 1.0 for an image array of `dtype` (255, 65535 or 1 for floats)."""
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def to_unit(array: np.ndarray) -> np.ndarray:
    """float32 in [0, 1] from an image array of any dtype."""
    return array.astype(np.float32) / np.float32(full_scale(array.dtype))


def read_image(path: Path, *, min_side: int = MIN_SIDE) -> Picture:
    """Decode `path` (PNG, JPEG, WebP, TIFF, BMP, ...), upright per its EXIF orientation."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} does not exist or is not a file")
    try:
        # From a file object, not the path: Pillow memory-maps a raw TIFF opened by name with its upright size,
        # so one tagged orientation 5-8 came out scrambled (Pillow 13, uncompressed L/P/RGBA/CMYK/I;16).
        with quiet_pillow(), open(path, "rb") as handle, Image.open(handle) as opened:
            check_still(opened, path)
            opened.load()
            ImageOps.exif_transpose(opened, in_place=True)  # upright, without keeping a second copy
            image = opened
    except UnidentifiedImageError:
        raise UserError(f"{path} is not an image Pillow can read (use PNG, JPEG, WebP, TIFF or BMP)") from None
    except Image.DecompressionBombError as exc:
        raise UserError(f"{path} is too large to open safely ({exc})") from None
    except MemoryError:   # a --max-pixels far beyond this machine's memory let a huge header through
        raise UserError(f"{path} is too large to decode in this machine's memory; pass a smaller --max-pixels or input") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserError(f"{path} is truncated or corrupt ({exc})") from None
    width, height = image.size
    if width == 0 or height == 0:
        raise UserError(f"{path} is an empty image ({width}x{height} pixels)")
    check_min_side(path, width, height, min_side)
    with quiet_pillow():
        return decode_pillow(image, path)


@contextlib.contextmanager
def quiet_pillow():
    """Pillow's warnings about a damaged file ("Corrupt EXIF data", "Truncated File Read") silenced: a file it cannot
    decode is one `error:` line of ours, one it can is processed; stderr gets no stray lines either way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def check_min_side(what, width: int, height: int, min_side: int = MIN_SIDE) -> None:
    """A UserError when a `width` x `height` image (`what`: its path or a description) is below `min_side`."""
    if min(width, height) < min_side:
        raise UserError(f"{what} is {width}x{height} pixels; the smallest image gan-app processes is {min_side}x{min_side}")


def output_channels(like: Picture) -> int:
    """Channels of an output in the mode of the input `like`: 1 for grey modes, 3 otherwise (alpha apart)."""
    return 1 if like.mode in ("L", "LA", "I;16") else 3


def check_still(image: Image.Image, path: Path) -> None:
    """A UserError for an animation or a multi-page file (GIF, APNG, WebP, TIFF): decoding it would
    silently keep frame 1 and drop the rest. Reads the container only, not the pixels."""
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        raise UserError(f"{path} has {frames} frames; gan-app processes still images: extract the frame you want, "
                        "or convert it to a video (.mp4) to process every frame")


def decode_pillow(image: Image.Image, path: Path) -> Picture:
    """Split a Pillow image into colour pixels and alpha, keeping 8 or 16 bits.

    32-bit integer grey (mode "I") is taken as 16-bit only when every value fits 0..65535;
    clipping the rest would lose depth without a word.
    """
    icc = image.info.get("icc_profile")
    mode = image.mode
    if mode in SIXTEEN_BIT_MODES:  # grey, 16 bits per pixel (Pillow has no 16-bit colour modes)
        low, high = image.getextrema()
        if low < 0 or high > 65535:
            raise UserError(f"{path} holds 32-bit grey values {low}..{high}, outside the 16-bit range 0..65535 that "
                            "gan-app processes; rescale it to 16 bits and save it again")
        grey = np.asarray(image, dtype=np.int64).astype(np.uint16)
        return Picture(grey[..., None], None, "I;16", icc)
    if mode == "P":
        mode = "RGBA" if "transparency" in image.info else "RGB"
    mode = _REWRITE_MODES.get(mode, mode)
    if mode not in _KEEP_MODES:
        raise UserError(f"{path} has image mode {image.mode!r}, which gan-app does not handle; save it as 8/16-bit grey or RGB(A)")
    if image.mode != mode:
        image = image.convert(mode)
    if mode in PRINT_MODES:
        image = image.convert("RGB")
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[..., None]
    has_alpha = mode in ("LA", "RGBA")
    alpha = np.ascontiguousarray(array[..., -1]) if has_alpha else None
    pixels = np.ascontiguousarray(array[..., :-1] if has_alpha else array)
    return Picture(pixels, alpha, mode, icc)


def to_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """(H, W, C) -> (H, W, channels): grey is replicated to RGB, RGB reduced to luma for grey models."""
    have = pixels.shape[-1]
    if have == channels:
        return pixels
    if have == 1 and channels == 3:
        return np.repeat(pixels, 3, axis=-1)
    if have == 3 and channels == 1:
        return (to_unit(pixels) @ LUMA)[..., None]
    raise UserError(f"cannot feed a {have}-channel image to a {channels}-channel model")


def output_dtype(like: Picture, fmt: str | None = None) -> type:
    """The integer dtype an output in the mode of the input `like` is stored in: np.uint16 for 16-bit grey
    where the destination holds 16 bits (file format `fmt`, see `image_format`; None: in memory), else np.uint8."""
    return np.uint16 if like.mode == "I;16" and (fmt is None or fmt in SIXTEEN_BIT_FORMATS) else np.uint8


def write_image(path: Path, pixels: np.ndarray, like: Picture, *, overwrite: bool = False) -> Path:
    """Write model output `pixels` (H, W, C) in the mode of the input `like`: float in [0, 1], or full-range
    integers (already `output_dtype(like, image_format(path))`: written as they are, not quantized again).

    The file format follows the extension of `path`; the write is atomic.
    """
    path = Path(path)
    fmt = image_format(path)
    print_mode = like.mode in PRINT_MODES and fmt in PRINT_MODE_FORMATS
    image = to_pillow(pixels, like, sixteen_bit=output_dtype(like, fmt) == np.uint16, print_mode=print_mode)
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    profile_fits = like.mode not in PRINT_MODES or print_mode  # a CMYK profile on RGB pixels would lie
    if like.icc_profile and fmt in ("PNG", "JPEG", "WEBP", "TIFF") and profile_fits:
        options["icc_profile"] = like.icc_profile
    with atomic_output(path, overwrite=overwrite) as tmp:
        try:
            image.save(tmp, format=fmt, **options)
        except (OSError, KeyError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # the system refused the write (full disk, read-only folder): atomic_output says so
            raise UserError(f"cannot write a {image.mode} image as {fmt} to {path} ({exc}); use a .png output") from None
    return path


def to_pillow(pixels: np.ndarray, like: Picture, *, sixteen_bit: bool = True, print_mode: bool = True) -> Image.Image:
    """Model output `pixels` (H, W, C), float in [0, 1] or full-range integers, as a Pillow image in the mode of the input `like`.

    `sixteen_bit` / `print_mode`: whether the destination holds 16-bit grey / CMYK and YCbCr
    (a file format may not; an in-memory image always does).
    """
    if pixels.ndim != 3:
        raise ValueError(f"pixels must be (H, W, C), got {pixels.shape}")
    want = output_channels(like)
    if pixels.shape[-1] != want:
        pixels = to_channels(pixels, want)
    return encode_pillow(pixels, like, sixteen_bit=sixteen_bit and like.mode == "I;16",
                         print_mode=print_mode and like.mode in PRINT_MODES)


def encode_pillow(pixels: np.ndarray, like: Picture, *, sixteen_bit: bool, print_mode: bool) -> Image.Image:
    """A Pillow image in `like`'s mode from pixels (H, W, C): float in [0, 1] (clipped here) or integers (see `quantize`).

    A CMYK or YCbCr input goes back to its mode only where the format holds it (`print_mode`, decided by the caller);
    a PNG of a CMYK JPEG is written as RGB, as 16-bit grey becomes 8-bit in a JPEG.
    """
    if sixteen_bit:
        return Image.fromarray(quantize(pixels[..., 0], np.uint16))
    array = quantize(pixels, np.uint8)
    if like.alpha is not None:
        array = np.concatenate([array, resize_alpha(like.alpha, array.shape[:2])[..., None]], axis=-1)
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    if print_mode:
        image = image.convert(like.mode)
    return image


def quantize(pixels: np.ndarray, dtype: type) -> np.ndarray:
    """Rounded full-range integers of `dtype` from `pixels` (rows first): float clipped to [0, 1], or integers
    of another depth rescaled; pixels already of `dtype` are returned as they are (never quantized twice).

    Converted in blocks of about a million values so no second float copy of a large image
    is ever held (a 24 MP RGB image is 288 MB as float32).
    """
    if pixels.dtype == dtype:
        return pixels
    out = np.empty(pixels.shape, dtype)
    full = np.float32(full_scale(np.dtype(dtype)))
    rows = max(1, (1 << 20) // max(1, pixels[:1].size))
    for start in range(0, pixels.shape[0], rows):
        block = pixels[start : start + rows]
        block = np.clip(block if block.dtype.kind == "f" else to_unit(block), 0.0, 1.0) * full
        out[start : start + rows] = np.round(block, out=block)
    return out


def resize_alpha(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The input's alpha (H, W) at output `size`, same dtype: unchanged at scale 1, Lanczos-resized otherwise."""
    if alpha.shape == size:
        return alpha
    plane = np.clip(np.asarray(Image.fromarray(to_unit(alpha)).resize((size[1], size[0]), Image.Resampling.LANCZOS)), 0, 1)
    if alpha.dtype.kind == "f":
        return plane.astype(alpha.dtype)
    return np.round(plane * np.float32(full_scale(alpha.dtype))).astype(alpha.dtype)


def image_format(path: Path) -> str:
    """The Pillow format for `path`'s extension, or a UserError naming the usable ones."""
    fmt = Image.registered_extensions().get(Path(path).suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise UserError(f"cannot tell the image format of {path}: use .png, .jpg, .webp, .tif or .bmp")
    return fmt


def side_by_side(before: np.ndarray, after: np.ndarray) -> Image.Image:
    """A before|after 8-bit RGB image; `before` (h, w, C) is upscaled (bicubic) to `after`'s (H, W, C) size.

    Each is float in [0, 1] or full-range integers (uint8 is shown as it is); grey is shown as grey.
    """
    left, right = (Image.fromarray(quantize(to_channels(p, 3), np.uint8)) for p in (before, after))
    if left.size != right.size:
        left = left.resize(right.size, Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (left.width + right.width, right.height))
    canvas.paste(left, (0, 0))
    canvas.paste(right, (left.width, 0))
    return canvas
