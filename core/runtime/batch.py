"""Files, folders and globs through an image-to-image model: the engine behind every image verb.

`gan-app deblur`, `gan-app upscale` and `gan-app run HEAD` all call `process_images`.
Every output path is planned and checked before the first image is processed: an
input or an existing file is never overwritten without `overwrite=True`, two inputs
never write the same output, and each file is written atomically.
"""

from __future__ import annotations

import contextlib
import glob
import os
from pathlib import Path
from typing import Callable

from PIL import Image

from gan_app.api import ImageModel
from gan_app.errors import UserError
from gan_app.limits import DEFAULT_MAX_PIXELS
from gan_app.runtime.files import atomic_output, check_folder, output_folders
from gan_app.runtime.images import (check_still, image_format, output_dtype, quiet_pillow, read_image, side_by_side,
                                    write_image)
from gan_app.runtime.session import OnnxModel
from gan_app.runtime.video import VIDEO_SUFFIXES, VideoOptions, is_video, probe_size, process_video, video_format

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"}
MEDIA_SUFFIXES = IMAGE_SUFFIXES | set(VIDEO_SUFFIXES)
UNTILED_MAX_PIXELS = 16_000_000      # --tile 0 runs the whole image at once: activations scale with it


def expand_inputs(inputs: list[str]) -> tuple[list[Path], bool]:
    """(image and video files, single) from files, folders (their images and clips, sorted) and glob patterns.

    `single` is True when exactly one plain file was named, so `-o` may be a file name.
    """
    files: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
            if not found:
                raise UserError(f"folder {path} holds no images or videos ({', '.join(sorted(MEDIA_SUFFIXES))})")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif glob.has_magic(item):
            found = _glob(path)
            if not found:
                raise UserError(f"no files match {item!r}")
            files.extend(found)
        else:
            raise UserError(f"input {item} does not exist")
    # One entry per real file (two links to one photo are one input), named as the user named it:
    # outputs go beside the path given, not beside a symlink's target.
    real, unique = set(), []
    for path in files:
        if path.resolve() not in real:
            real.add(path.resolve())
            unique.append(Path(os.path.abspath(path)))
    if not unique:
        raise UserError("no input images given")
    single = len(inputs) == 1 and len(unique) == 1 and Path(inputs[0]).expanduser().is_file()
    return unique, single


def _glob(pattern: Path) -> list[Path]:
    """Files matching `pattern` (`**` for any depth), sorted. pathlib's `**` does not follow symlinked
    folders, unlike glob.glob(recursive=True), which never returns from a link to `.`."""
    parts = pattern.parts
    first = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    root = Path(*parts[:first]) if first else Path(".")
    return sorted(p for p in root.glob(str(Path(*parts[first:]))) if p.is_file())


def plan_outputs(files: list[Path], output: str | Path | None, single: bool, suffix: str, overwrite: bool,
                 compare: bool = False) -> list[Path]:
    """One output path per input, checked: no clashes, no silent overwrites, a writable folder.

    No `output`: `<stem><suffix><ext>` beside each input. `output` for a single input
    with a file extension: that file. Otherwise `output` is a folder (made by
    `process_images` once every check passed) that receives files under their input
    names. An image output needs an image extension, a clip's a video one. `compare`: the `compare_path` companions are planned and
    checked with them, so no output is written over another's before|after file.
    """
    if output is None:
        planned = [f.with_name(f"{f.stem}{suffix}{f.suffix}") for f in files]
    else:
        target = Path(output).expanduser()
        if single and not target.is_dir() and target.suffix:
            planned = [target]
        else:
            planned = [target / f.name for f in files]
    for source, dest in zip(files, planned):
        if is_video(source):
            video_format(dest)
        else:
            image_format(dest)
    for folder in dict.fromkeys(p.parent for p in planned):
        check_folder(folder, "-o")   # nothing is made until every check has passed
    planned = [Path(os.path.abspath(p)) for p in planned]
    inputs = {f.resolve() for f in files}
    seen: dict[Path, Path] = {}
    for source, dest in zip(files, planned):
        for path in (dest, compare_path(dest)) if compare else (dest,):
            real = path.resolve()
            if real in seen:
                raise UserError(f"{seen[real]} and {source} would both be written to {path}; use separate output folders")
            seen[real] = source
            if not overwrite and real in inputs:
                raise UserError(f"output {path} is an input file; refusing to overwrite it (pass --overwrite, or use -o / another suffix)")
            if not overwrite and path.exists():
                raise UserError(f"output {path} already exists; pass --overwrite to replace it")
    if compare and overwrite:
        clobbered = inputs & {compare_path(p).resolve() for p in planned}
        if clobbered:
            raise UserError(f"the before|after file {sorted(clobbered)[0]} would replace an input; use -o OUTDIR")
    return planned


def compare_path(output: Path) -> Path:
    """Where the before|after file of `output` goes: `<stem>_compare.png`, or `<stem>_compare<ext>` for a clip."""
    return output.with_name(f"{output.stem}_compare{output.suffix if is_video(output) else '.png'}")


def process_images(
    model: ImageModel | OnnxModel | Callable[[Path], ImageModel],
    inputs: list[str],
    output: str | Path | None,
    *,
    suffix: str = "_out",
    overwrite: bool = False,
    tile: int | None = None,
    compare: bool = False,
    level: int | str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    video: VideoOptions | None = None,
    progress: bool = True,
) -> list[Path]:
    """Run `model` on every image and clip named by `inputs`; returns the written output paths.

    `model` may also choose per input: a function from an input file to its `ImageModel` (e.g. by the
    file's format); every output is still planned and checked at once before any work.

    `compare=True` also writes `<output stem>_compare.png`: input (upscaled bicubic for
    scale > 1 models) beside the output. `level`: see `ImageModel.restore`, which every image goes
    through (the Python API's path). Every input's output size is checked against `max_pixels` from
    its header before any work (a 74-byte PNG may declare 60000x60000). Clips are streamed frame by
    frame (`gan_app.runtime.video`, options `video`; `progress`: a bar on stderr).
    """
    fixed = ImageModel(model) if isinstance(model, OnnxModel) else model
    choose = (lambda path: fixed) if isinstance(fixed, ImageModel) else fixed
    files, single = expand_inputs(inputs)
    outputs = plan_outputs(files, output, single, suffix, overwrite, compare)
    video = video or VideoOptions()
    if any(is_video(f) for f in files):
        video.check()
    if max_pixels < 1:
        raise UserError(f"--max-pixels must be >= 1, got {max_pixels}")
    for source in files:  # header check: fail before any work on a non-image or an oversized one
        _check_header(source, choose(source).scale, max_pixels, tile)
    with output_folders(dict.fromkeys(p.parent for p in outputs)):   # a run failing before its first write leaves none
        for source, dest in zip(files, outputs):
            chosen = choose(source)
            if is_video(source):
                process_video(chosen, source, dest, video, tile=tile, level=level, overwrite=overwrite,
                              compare=compare_path(dest) if compare else None, progress=progress)
                continue
            with pillow_pixel_limit(max_pixels):
                picture = read_image(source)
            like = chosen.output_like(picture)   # restored straight into the integers written: no float image held
            result = chosen.restore(picture, tile=tile, level=level, dtype=output_dtype(like, image_format(dest)))
            write_image(dest, result, like, overwrite=overwrite)
            if compare:
                with atomic_output(compare_path(dest), overwrite=overwrite) as tmp:
                    side_by_side(picture.pixels, result).save(tmp, format="PNG")
    return outputs


@contextlib.contextmanager
def pillow_pixel_limit(max_pixels: int | None):
    """Pillow's own decompression-bomb limit raised to `max_pixels` while we decode what we checked (None: off)."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None if max_pixels is None else max(previous or 0, max_pixels)
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _check_header(path: Path, scale: int, max_pixels: int, tile: int | None) -> None:
    """Read only the header: a non-image, an animation, or an output over `max_pixels` fails before any output
    is written.

    For a clip the bound is per frame (frames are streamed)."""
    if is_video(path):
        height, width = probe_size(path)
    else:
        try:
            # The size below decides, not Pillow's bomb check (a PNG may declare 2^31 x 2^31: Pillow raises, not OSError).
            with quiet_pillow(), pillow_pixel_limit(None), Image.open(path) as opened:
                width, height = opened.size
                check_still(opened, path)
        except (OSError, ValueError, SyntaxError):
            raise UserError(f"{path} is not an image Pillow can read (use PNG, JPEG, WebP, TIFF or BMP)") from None
    pixels = width * height * scale * scale
    size = f"{width * scale}x{height * scale} ({pixels / 1e6:.0f} MP)"
    if pixels > max_pixels:
        raise UserError(f"{path.name}: the output would be {size}, over --max-pixels {max_pixels}; pass a larger "
                        f"--max-pixels (about {pixels * 8 / 1e9:.1f} GB of memory) or a smaller input")
    if tile == 0 and pixels > UNTILED_MAX_PIXELS:
        raise UserError(f"{path.name}: the output would be {size}, too large for --tile 0 (one run); "
                        f"use --tile 256 or leave --tile out for automatic tiling")
