"""Video benchmarks: end-to-end speed (decode + model + encode) against the model alone, and flicker.

    python benchmarks/video.py speed   [--frames 24]
    python benchmarks/video.py flicker [--frames 120] [--model deblur]

speed: deblur at 1280x720 and upscale x2 from 640x360, ONNX Runtime with 2 threads, frames of
opencv-doc's `vtest.avi` (a real street clip) resized to the input size and encoded as an H.264
clip first. "model alone" runs `ImageModel.restore` on the already decoded frames in the same run;
"end to end" is `gan_app.runtime.video.process_video` on the clip (H.264 CRF 18 out); the two alternate
REPEATS times and the medians are reported.
flicker: `vtest.avi` (static camera) through the model at its native 768x576; the mean absolute
difference of consecutive frames (0-255 scale) of the output against that of the input, over all
pixels and over the static ones (input change < 4/255 there), beside a per-frame unsharp mask. A
ratio near 1 on static pixels means the model adds no temporal noise of its own; sharpening any
frame sequence raises its differences a little where it moves.
Each prints a table and writes benchmarks/results/video_<part>.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_table, write_json  # noqa: E402

THREADS = 2
REPEATS = 3
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")   # apt-get install opencv-doc


def _frames(count: int, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """The first `count` frames of vtest.avi as (H, W, 3) uint8, resized to `size` (H, W) if given."""
    import av
    from PIL import Image

    if not VTEST.is_file():
        sys.exit(f"{VTEST} is missing: apt-get install opencv-doc")
    out = []
    with av.open(str(VTEST)) as container:
        for frame in container.decode(video=0):
            image = frame.to_image()
            if size is not None:
                image = image.resize((size[1], size[0]), Image.BICUBIC)
            out.append(np.asarray(image.convert("RGB")))
            if len(out) == count:
                break
    return out


def _write_clip(path: Path, frames: list[np.ndarray], rate: int = 10) -> Path:
    """`frames` as an H.264 (CRF 18) clip."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate, options={"crf": "18"})
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, rate)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def speed(count: int) -> dict:
    import gan_app
    from gan_app.runtime.images import Picture
    from gan_app.runtime.video import VideoOptions, process_video

    cases = [("deblur 1280x720", "deblur", (720, 1280)), ("upscale x2 640x360", "superres-x2-psnr", (360, 640))]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, size in cases:
            model = gan_app.load(name, threads=THREADS)
            frames = _frames(count, size)
            clip = _write_clip(Path(tmp) / f"{name}.mp4", frames)
            model.restore(Picture(frames[0], None, "RGB"))                        # warm-up
            alone_runs, piped_runs = [], []
            for repeat in range(REPEATS):     # interleaved, medians: this machine's load drifts by +-5%
                start = time.perf_counter()
                for image in frames:
                    model.restore(Picture(image, None, "RGB"))
                alone_runs.append(time.perf_counter() - start)
                start = time.perf_counter()
                process_video(model, clip, Path(tmp) / f"{name}_out_{repeat}.mp4", VideoOptions(), progress=False)
                piped_runs.append(time.perf_counter() - start)
            alone, end_to_end = statistics.median(alone_runs), statistics.median(piped_runs)
            rows.append({"case": label, "frames": count, "model alone fps": count / alone,
                         "end-to-end fps": count / end_to_end, "overhead": end_to_end / alone - 1})
    print_table(rows, ["case", "frames", "model alone fps", "end-to-end fps", "overhead"])
    return {"threads": THREADS, "rows": rows}


def flicker(count: int, name: str) -> dict:
    import gan_app

    from PIL import Image, ImageFilter

    model = gan_app.load(name, threads=THREADS)
    frames = _frames(count)
    diffs = [np.abs(b.astype(np.float32) - a).max(axis=-1) for a, b in zip(frames, frames[1:])]
    static = [d < 4 for d in diffs]      # pixels where the input is still: what changes there is flicker

    def temporal(seq: list[np.ndarray], mask: bool) -> float:
        values = [np.abs(b.astype(np.float32) - a).mean(axis=-1) for a, b in zip(seq, seq[1:])]
        return float(np.mean([v[m].mean() if mask else v.mean() for v, m in zip(values, static)]))

    sharpen = ImageFilter.UnsharpMask(radius=2, percent=50, threshold=0)   # a per-frame sharpening baseline
    candidates = {"input": frames, name: [model(image) for image in frames],
                  "unsharp mask r2 x0.5": [np.asarray(Image.fromarray(f).filter(sharpen)) for f in frames]}
    base_all, base_static = temporal(frames, False), temporal(frames, True)
    rows = [{"frames": label, "all pixels": temporal(seq, False), "static pixels": temporal(seq, True),
             "ratio all": temporal(seq, False) / base_all, "ratio static": temporal(seq, True) / base_static}
            for label, seq in candidates.items()]
    print_table(rows, ["frames", "all pixels", "static pixels", "ratio all", "ratio static"])
    return {"model": name, "frames": count, "static_threshold": 4, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["speed", "flicker"])
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--model", default="deblur")
    args = parser.parse_args()
    if args.part == "speed":
        write_json("video_speed", speed(args.frames or 24))
    else:
        write_json(f"video_flicker_{args.model}", flicker(args.frames or 120, args.model))


if __name__ == "__main__":
    main()
