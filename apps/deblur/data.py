"""Deblur datasets: real pairs (GoPro layout, blur/+sharp/ folders) or sharp photos + synthetic blur.

Items are dicts {"source": blurred (3, S, S), "target": sharp (3, S, S)}, float32 in [0, 1].
Synthetic pairs: colour jitter on the sharp crop (albumentations), then with probability `still`
a camera held still (camera.py's pipeline with a path under 1 px and no roll: highlights, noise and
JPEG but no blur, so a model learns to leave sharp edges alone), with probability `realistic` a
camera's shake (camera.py: linear light, highlights, roll, shot/read noise, JPEG), otherwise one
camera-shake or linear motion PSF in sRGB (blur.py) with Gaussian noise and JPEG.
All randomness comes from torch's generator, so a seeded run (and its resume) is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from gan_app.data.folders import data_folder, list_images, load_rgb
from gan_app.data.photos import offline_photos, training_photos
from gan_app.data.ranges import to_unit_tensor
from gan_app.errors import UserError

from .blur import ShakeParams, blur, random_linear_psf, random_shake_psf, smooth_line_psf
from .camera import CameraParams, jpeg, realistic_pair

EVAL_KERNEL_SEED = 20_261_123   # evaluation kernels come from this stream only; training never uses it
CALIBRATION_SEED = 20_261_202   # the calibration pairs' stream (training photos, for development decisions)
CALIBRATION_PHOTOS = 12         # the first training photos that the calibration pairs use
STILL_CAMERA = CameraParams(min_length=0.0, max_length=1.0, max_roll_deg=0.0)   # `data.still`: a path under 1 px


@dataclass
class DeblurDataConfig:
    """Where pairs come from and how synthetic blur is made."""

    path: str = "photos"         # "photos" (offline photo set), a sharp-only folder, blur/+sharp/ or GoPro root
    crop: int = 128              # training crop (a multiple of the generator's size multiple)
    blur: str = "shake"          # shake (camera-shake trajectories) | linear (kornia) | mix
    kernel_size: int = 31
    max_length: float = 20.0     # longest blur path, px
    noise: float = 0.01          # max std of Gaussian noise added to the blurred image ([0, 1] scale)
    jpeg_prob: float = 0.3       # probability of JPEG-compressing the blurred image
    epoch_size: int = 4096       # synthetic samples per epoch
    wallpapers: bool = False     # "photos" also takes the wallpaper photographs (core.data.photos.WALLPAPERS)
    realistic: float = 0.0       # probability of the realistic camera pipeline (camera.py) per sample
    camera_min_length: float = 10.0   # realistic: shortest translation path, px
    camera_max_length: float = 45.0   # realistic: longest translation path, px
    camera_max_roll: float = 1.0      # realistic: largest roll swing, degrees
    still: float = 0.0           # probability of a still camera: the realistic pipeline without blur (< 1 px path)

    def camera(self) -> CameraParams:
        return CameraParams(min_length=self.camera_min_length, max_length=self.camera_max_length,
                            max_roll_deg=self.camera_max_roll)


def _random_window(img: np.ndarray, size: int, gen: torch.Generator) -> tuple[int, int]:
    """Top-left corner of a random `size` x `size` window of `img` (H, W, C)."""
    h, w = img.shape[:2]
    if h < size or w < size:
        raise UserError(f"an image of {w}x{h} is smaller than the crop {size}; use larger images or --set data.crop=N")
    return int(torch.randint(0, h - size + 1, (1,), generator=gen)), int(torch.randint(0, w - size + 1, (1,), generator=gen))


def _random_crop(img: np.ndarray, size: int, gen: torch.Generator) -> np.ndarray:
    y, x = _random_window(img, size, gen)
    return img[y:y + size, x:x + size]


def sample_psf(cfg: DeblurDataConfig, rng: np.random.Generator) -> np.ndarray:
    """One (K, K) PSF from the configured blur family."""
    kind = cfg.blur if cfg.blur != "mix" else ("shake" if rng.uniform() < 0.7 else "linear")
    if kind == "shake":
        return random_shake_psf(rng, ShakeParams(cfg.kernel_size, cfg.max_length))
    if kind == "linear":
        return random_linear_psf(rng, cfg.kernel_size, cfg.max_length)
    raise UserError(f"unknown blur {cfg.blur!r}; use shake, linear or mix")


def degrade(sharp: torch.Tensor, psf: np.ndarray, cfg: DeblurDataConfig, rng: np.random.Generator) -> torch.Tensor:
    """Blur (3, H, W) in [0, 1] with `psf`, then add noise and maybe JPEG; same size, [0, 1]."""
    blurred = blur(sharp[None], torch.from_numpy(psf))[0]
    blurred = blurred + torch.from_numpy(rng.normal(0, rng.uniform(0, cfg.noise), blurred.shape).astype(np.float32))
    blurred = blurred.clamp(0, 1)
    if rng.uniform() < cfg.jpeg_prob:
        blurred = jpeg(blurred, (60, 95), rng)
    return blurred


class SyntheticBlurDataset(Dataset):
    """Sharp photos -> random crops -> synthetic blur; `epoch_size` fresh pairs per epoch."""

    def __init__(self, photos: list[np.ndarray], cfg: DeblurDataConfig):
        import albumentations as A

        # Context the blur needs around the crop: the sRGB kernel, or the camera's longest path plus the
        # roll's drift at the far corner of the largest photo.
        largest = max((np.hypot(*p.shape[:2]) / 2 for p in photos), default=0.0)
        self.camera = cfg.camera()
        margin = max(cfg.kernel_size, self.camera.kernel_size(largest) if cfg.realistic else 0) // 2
        self.photos = [p for p in photos if min(p.shape[:2]) >= cfg.crop + 2 * margin]
        if not self.photos:
            raise UserError(f"no image is at least {cfg.crop + 2 * margin}px on its short side; lower --set data.crop")
        self.cfg, self.margin = cfg, margin
        self.colour = A.Compose([A.HorizontalFlip(p=0.5), A.RandomRotate90(p=0.5),
                                 A.ColorJitter(0.2, 0.2, 0.2, 0.02, p=0.5)])

    def __len__(self) -> int:
        return self.cfg.epoch_size

    def __getitem__(self, index: int) -> dict:
        gen = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,))))
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=gen)))
        photo = self.photos[int(torch.randint(0, len(self.photos), (1,), generator=gen))]
        m, s = self.margin, self.cfg.crop
        y, x = _random_window(photo, s + 2 * m, gen)
        self.colour.set_random_seed(int(rng.integers(2**31)))
        sharp = to_unit_tensor(self.colour(image=photo[y:y + s + 2 * m, x:x + s + 2 * m])["image"])   # (3, S+2m, S+2m)
        kind = rng.uniform()            # one draw picks the branch: still, then realistic, then sRGB
        if kind < self.cfg.still:
            blurred, sharp = realistic_pair(sharp, y, x, photo.shape[:2], STILL_CAMERA, rng)
        elif kind < self.cfg.still + self.cfg.realistic:
            blurred, sharp = realistic_pair(sharp, y, x, photo.shape[:2], self.camera, rng)
        else:
            blurred = degrade(sharp, sample_psf(self.cfg, rng), self.cfg, rng)
        return {"source": blurred[:, m:m + s, m:m + s], "target": sharp[:, m:m + s, m:m + s]}


class PairedDeblurDataset(Dataset):
    """Real blurred/sharp pairs (GoPro or blur/+sharp/), aligned random crops and flips."""

    def __init__(self, pairs: list[tuple[Path, Path]], cfg: DeblurDataConfig):
        self.pairs, self.cfg = pairs, cfg

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict:
        blurred, sharp = (load_rgb(p) for p in self.pairs[index])
        if blurred.shape != sharp.shape:
            raise UserError(f"{self.pairs[index][0]} and {self.pairs[index][1]} differ in size; pairs must align")
        gen = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,))))
        both = _random_crop(np.concatenate([blurred, sharp], axis=2), self.cfg.crop, gen)
        if torch.rand(1, generator=gen) < 0.5:
            both = both[:, ::-1]
        t = to_unit_tensor(both)
        return {"source": t[:3], "target": t[3:]}


def build_dataset(cfg: DeblurDataConfig, multiple: int = 4) -> Dataset:
    """The dataset for `cfg.path`: photos | paired/GoPro folder | sharp-only folder.

    `multiple`: the generator's size multiple, which training crops must respect.
    """
    if cfg.crop % multiple:
        raise UserError(f"data.crop must be a multiple of {multiple} for this generator, got {cfg.crop}")
    if cfg.path == "photos":
        return SyntheticBlurDataset(training_photos(wallpapers=cfg.wallpapers), cfg)
    folder = data_folder(cfg.path, ("blur", "sharp"), "a folder of sharp photos, blur/+sharp/ or a GoPro root")
    if folder.pairs is not None:
        return PairedDeblurDataset(folder.pairs, cfg)
    return SyntheticBlurDataset([load_rgb(p) for p in folder.images], cfg)


EVAL_SPLITS = ("uniform", "realistic", "realistic_long", "linear")
LINEAR_EVAL_LENGTH = (5.0, 61.0)   # the `linear` split: straight streaks of this many px (`--motion`)


def evaluation_crops(max_side: int = 512, photos: str = "held_out"
                     ) -> list[tuple[str, torch.Tensor, int, int, tuple[int, int]]]:
    """The evaluation photos, unblurred: [(name, sharp (3, h, w) in [0, 1], top, left, photo (H, W))].

    `photos`: the held-out split, or "calibration" (the first CALIBRATION_PHOTOS training photos); each
    centre-cropped to at most `max_side` and to a multiple of 4, where the crop lies in its photo beside it.
    """
    if photos not in ("held_out", "calibration"):
        raise UserError(f"unknown evaluation photos {photos!r}; use held_out or calibration")
    images = offline_photos("held_out") if photos == "held_out" else offline_photos("train")[:CALIBRATION_PHOTOS]
    out = []
    for name, img in images:
        h, w = (min(s, max_side) // 4 * 4 for s in img.shape[:2])
        y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
        out.append((name, to_unit_tensor(img[y:y + h, x:x + w]), y, x, img.shape[:2]))
    return out


def evaluation_pairs(cfg: DeblurDataConfig, max_side: int = 512, split: str = "uniform",
                     photos: str = "held_out") -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Held-out photos blurred with held-out kernels: [(name, blurred, sharp)], (H, W, 3) float32.

    Deterministic: cameras and noise come from EVAL_KERNEL_SEED's streams, photos from the
    held-out split, centre-cropped to at most `max_side` and to a multiple of 4. `photos="calibration"`
    takes the first CALIBRATION_PHOTOS training photos and CALIBRATION_SEED's streams instead: pairs for
    choosing between proxy runs without looking at the held-out benchmark (never for reported quality). Splits:
    `uniform`: one camera-shake PSF per image in sRGB (cfg's kernel size and length), noise <= cfg.noise;
    `realistic`: camera.py's pipeline, 10-45 px paths, roll <= 1 degree about the photo's centre,
    highlights, shot/read noise, JPEG q 90; `realistic_long`: the same cameras with paths twice as long;
    `linear`: one smooth straight streak per image in sRGB (`smooth_line_psf`, 5-61 px, any angle), noise
    <= cfg.noise, no JPEG (what `--motion` is for).
    """
    if split not in EVAL_SPLITS:
        raise UserError(f"unknown evaluation split {split!r}; use one of {', '.join(EVAL_SPLITS)}")
    seed = EVAL_KERNEL_SEED if photos == "held_out" else CALIBRATION_SEED
    rng = np.random.default_rng(seed + {"uniform": 0, "linear": 2}.get(split, 1))
    camera = CameraParams(jpeg_prob=1.0, jpeg_quality=(90, 90))
    lossless = DeblurDataConfig(**{**cfg.__dict__, "jpeg_prob": 0.0})
    out = []
    for name, sharp, y, x, photo_size in evaluation_crops(max_side, photos):
        if split == "uniform":
            blurred = degrade(sharp, sample_psf(cfg, rng), lossless, rng)
        elif split == "linear":
            psf = smooth_line_psf(rng.uniform(*LINEAR_EVAL_LENGTH), rng.uniform(0, 180))
            blurred = degrade(sharp, psf, lossless, rng)
        else:
            blurred, sharp = realistic_pair(sharp, y, x, photo_size, camera, rng,
                                            length_scale=2.0 if split == "realistic_long" else 1.0)
        out.append((name, blurred.permute(1, 2, 0).numpy(), sharp.permute(1, 2, 0).numpy()))
    return out


def write_paired_set(sharp_dir: Path, out_dir: Path, *, per_image: int = 1, blur: str = "shake",
                     max_length: float = 20.0, seed: int = 0) -> int:
    """Blur every photo of `sharp_dir` into `out_dir/{blur,sharp,kernels}/NAME_k.png`; returns the pair count,
    which is the number of pairs written.

    Kernels are saved as .npy (plain arrays, no pickle) and as a PNG scaled to its maximum
    for viewing. Refuses, before writing anything, an existing non-empty folder and two photos
    that would be written under one name (`_output_stems`); each file is written atomically.
    """
    from PIL import Image

    from gan_app.runtime.files import atomic_output, output_folders

    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UserError(f"{out_dir} exists and is not empty; choose a new output folder")
    images = list_images(Path(sharp_dir))
    if not images:
        raise UserError(f"no images found in {sharp_dir}")
    stems = _output_stems(images, Path(sharp_dir))
    cfg = DeblurDataConfig(blur=blur, max_length=max_length, jpeg_prob=0.0)
    rng = np.random.default_rng(seed)
    count = 0
    with output_folders([out_dir / sub for sub in ("blur", "sharp", "kernels")]):
        for path, stem in zip(images, stems):
            sharp = to_unit_tensor(load_rgb(path))
            for k in range(per_image):
                psf = sample_psf(cfg, rng)
                blurred = degrade(sharp, psf, cfg, rng)
                name = f"{stem}_{k}"
                pictures = [(out_dir / sub / f"{name}.png", (img.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8))
                            for sub, img in (("blur", blurred), ("sharp", sharp))]
                pictures.append((out_dir / "kernels" / f"{name}.png", (psf / psf.max() * 255).astype(np.uint8)))
                for dest, array in pictures:
                    with atomic_output(dest) as tmp:
                        Image.fromarray(array).save(tmp, format="PNG")
                with atomic_output(out_dir / "kernels" / f"{name}.npy") as tmp, open(tmp, "wb") as fh:
                    np.save(fh, psf, allow_pickle=False)   # a path would get ".npy" appended to the temp name
                count += 1
    return count


def _output_stems(images: list[Path], root: Path) -> list[str]:
    """The output stem of each photo: its name without the extension. Two photos of one stem (a.png
    and a.jpg, or sub/a.png) would overwrite each other's pairs, so they are refused (ignoring case,
    as macOS and Windows folders do). Distinct stems give distinct `STEM_k` names: k has no `_`."""
    seen: dict[str, Path] = {}
    for path in images:
        other = seen.setdefault(path.stem.casefold(), path)
        if other != path:
            raise UserError(f"{other.relative_to(root)} and {path.relative_to(root)} in {root} would both be written as "
                            f"{path.stem}_0.png; rename one of them")
    return [path.stem for path in images]
