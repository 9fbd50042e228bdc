"""The natural photos reachable offline (see shared/DATA.md), split once into train/held-out.

Used to train and evaluate the shipped image-to-image models when no user folder is given.
The held-out names never enter training; benchmarks evaluate only on them. Sources:
scikit-image's bundled photos, scikit-learn's sample images and the photos of Debian's
`opencv-doc` package (`apt-get install -y opencv-doc`), each used when present; and, for the
heads that ask for them (`wallpaper_photos`), the photographs (not the illustrations) among
Debian's `plasma-workspace-wallpapers` and `lomiri-wallpapers`, downscaled 2-4x.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from gan_app.errors import UserError

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")

SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
                  "retina", "camera", "moon", "coins", "brick", "grass", "gravel", "text", "page", "cell")
SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")
OPENCV_PHOTOS = ("baboon.jpg", "fruits.jpg", "building.jpg", "butterfly.jpg", "home.jpg", "apple.jpg",
                 "orange.jpg", "messi5.jpg", "starry_night.jpg", "squirrel_cls.jpg", "smarties.png", "board.jpg",
                 "aero1.jpg", "aero3.jpg", "leuvenA.jpg", "leuvenB.jpg", "graf1.png", "rubberwhale1.png",
                 "chicky_512.png", "stuff.jpg", "HappyFish.jpg", "pic1.png", "blox.jpg", "basketball1.png",
                 "left01.jpg", "right05.jpg", "box_in_scene.png", "aloeL.jpg", "ela_original.jpg")

# Fixed once; never trained on. Mixed sources, colour and grey, textures and faces.
HELD_OUT = frozenset({"coffee", "rocket", "flower.jpg", "fruits.jpg", "building.jpg", "butterfly.jpg",
                      "grass", "messi5.jpg"})


# The photographs among the wallpapers shared/DATA.md allows for training (illustrations and renders
# left out: flat colour and vector edges are not what a camera sees). (package, folder, name):
# plasma keeps one folder per picture with several sizes (the largest is taken), lomiri one file.
WALLPAPERS = (
    [("plasma-workspace-wallpapers", Path("/usr/share/wallpapers"), n) for n in (
        "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
        "OneStandsOut", "Path", "summer_1am")]
    + [("lomiri-wallpapers", Path("/usr/share/backgrounds"), f"{n}.jpg") for n in (
        "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Infinite-Sea_by_Aury88", "Kleiber_by_Lukas_Baubkus",
        "Picture_0B_by_freespace", "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi",
        "analogpattern_by_Peter_Nerlich", "free_by_Peter_Nerlich", "friends_by_Aitzol_Berasategi",
        "greentock_by_Peter_Nerlich", "life_by_Aitzol_Berasategi", "picosdeeuropa_by_Aitzol_Berasategi",
        "seeding_by_Clements_Engelhardt", "sunset_by_Aitzol_Berasategi")])
WALLPAPER_SCALES = (2, 3, 4)   # downscaling factors: a clean, sharp ground truth at three scales per photo


def wallpaper_description() -> str:
    """What `wallpaper_photos` adds to a training set, in words, for model cards."""
    packages = ", ".join(sorted({package for package, _, _ in WALLPAPERS}))
    sizes = ", ".join(f"1/{f}" for f in WALLPAPER_SCALES)
    return f"{len(WALLPAPERS)} wallpaper photographs ({packages}) at {sizes} size"


def _largest_image(path: Path) -> Path | None:
    """`path` itself if it is a file, else the largest image under a plasma wallpaper folder."""
    if path.is_file():
        return path
    candidates = [p for p in path.glob("contents/images/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    if not candidates:
        return None
    def pixels(p: Path) -> int:
        with Image.open(p) as im:
            return im.size[0] * im.size[1]
    return max(candidates, key=pixels)


def _downscaled(path: Path, factors: tuple[int, ...]) -> list[np.ndarray]:
    """The photo at `path` shrunk by each factor with Lanczos (antialiased), as (H, W, 3) uint8."""
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    return [np.asarray(rgb.resize((rgb.width // f, rgb.height // f), Image.LANCZOS)) for f in factors]


def wallpaper_photos(factors: tuple[int, ...] = WALLPAPER_SCALES) -> list[tuple[str, np.ndarray]]:
    """[(name@factor, (H, W, 3) uint8)] of the wallpaper photographs at each downscaling factor.

    Missing packages are named on stderr with their install command (as `offline_photos` does).
    """
    photos, missing = [], {}
    for package, root, name in WALLPAPERS:
        path = _largest_image(root / name)
        if path is None:
            missing[package] = missing.get(package, 0) + 1
            continue
        photos += [(f"{name}@{f}", img) for f, img in zip(factors, _downscaled(path, factors))]
    _note_missing("wallpaper photos", {f"apt-get install -y {package}": n for package, n in missing.items()}, len(photos))
    return photos


def _skimage(name: str) -> np.ndarray | None:
    try:
        import skimage.data
        return getattr(skimage.data, name)()
    except Exception:  # not installed, or a photo that needs a download
        return None


def _sklearn(name: str) -> np.ndarray | None:
    try:
        from sklearn.datasets import load_sample_image
        return load_sample_image(name)
    except Exception:
        return None


def _opencv(name: str) -> np.ndarray | None:
    path = OPENCV_DATA / name
    if not path.is_file():
        return None
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _as_rgb_uint8(img: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, 3|4) of any dtype -> (H, W, 3) uint8."""
    if img.dtype != np.uint8:
        img = np.clip(img.astype(np.float64) / (img.max() if img.max() > 1.0 else 1.0) * 255.0, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3])


# Where each source comes from, for the note that names what is missing.
_INSTALL_HINTS = {"skimage": "pip install scikit-image", "sklearn": "pip install scikit-learn",
                  "opencv": "apt-get install -y opencv-doc"}


def offline_photos(split: str = "train", min_side: int = 128) -> list[tuple[str, np.ndarray]]:
    """[(name, (H, W, 3) uint8 RGB)] for `split` in {"train", "held_out", "all"}.

    Photos smaller than `min_side` on either side are skipped. Photos whose source is not
    installed are left out with one note on stderr naming the install command: a silently
    smaller set would train and score a different model than the shipped cards describe.
    """
    if split not in ("train", "held_out", "all"):
        raise ValueError(f"split must be train, held_out or all, not {split!r}")
    loaders = ([(n, _skimage, "skimage") for n in SKIMAGE_PHOTOS] + [(n, _sklearn, "sklearn") for n in SKLEARN_PHOTOS]
               + [(n, _opencv, "opencv") for n in OPENCV_PHOTOS])
    photos, missing = [], {}
    for name, load, source in loaders:
        if split == "train" and name in HELD_OUT or split == "held_out" and name not in HELD_OUT:
            continue
        img = load(name)
        if img is None:
            missing.setdefault(source, []).append(name)
        elif min(img.shape[:2]) >= min_side:
            photos.append((name, _as_rgb_uint8(img)))
    _note_missing(f"offline {split} photos", {_INSTALL_HINTS[source]: len(names) for source, names in missing.items()},
                  len(photos))
    return photos


def _note_missing(what: str, counts: dict[str, int], using: int) -> None:
    """One stderr note naming how many `what` are missing and the install command for each group."""
    if counts:
        hints = "; ".join(f"{hint} ({count})" for hint, count in counts.items())
        print(f"note: {sum(counts.values())} {what} unavailable, using {using}; to get them: {hints}", file=sys.stderr)


def training_photos(wallpapers: bool = False) -> list[np.ndarray]:
    """The train split's (H, W, 3) uint8 images for heads trained on the built-in photos.

    `wallpapers` adds `wallpaper_photos()` (27 large photographs at 3 scales). Raises UserError
    when none load, so every head fails the same clear way.
    """
    photos = [img for _, img in offline_photos("train")]
    if wallpapers:
        photos += [img for _, img in wallpaper_photos()]
    if not photos:
        raise UserError("no offline photos found; install scikit-image (and opencv-doc) or pass --data FOLDER")
    return photos
