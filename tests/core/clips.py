"""`make_clip`: tiny H.264 test clips made with PyAV (a moving bar, optional AAC tone, chosen pts and
rotation). Shared by the video and fuzz suites; loaded by path (tests are not a package)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 12


def make_clip(path: Path, frames: int = 8, size: tuple[int, int] = (49, 65), audio: bool = True,
              pts: list[int] | None = None, rotation: int = 0) -> Path:
    """A tiny H.264 clip (H, W) = `size`: a moving bar, optional AAC tone, given pts (time base 1/RATE)."""
    height, width = size
    container = av.open(str(path), "w")
    video = container.add_stream("libx264", rate=RATE)
    video.width, video.height = width, height
    video.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    video.time_base = video.codec_context.time_base = Fraction(1, RATE)
    if rotation:
        video.set_display_rotation(rotation)
    sound = container.add_stream("aac", rate=16000) if audio else None
    for i, stamp in enumerate(pts or range(frames)):
        image = np.full((height, width, 3), 40, np.uint8)
        image[:, (i * 7) % width] = 250
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = stamp, Fraction(1, RATE)
        for packet in video.encode(frame):
            container.mux(packet)
    if sound is not None:
        seconds = (max(pts) + 1 if pts else frames) / RATE
        t = np.arange(int(16000 * seconds)) / 16000
        tone = av.AudioFrame.from_ndarray((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None],
                                          format="fltp", layout="mono")
        tone.sample_rate, tone.pts = 16000, 0
        for packet in [*sound.encode(tone), *sound.encode(None)]:
            container.mux(packet)
    for packet in video.encode(None):
        container.mux(packet)
    container.close()
    return path
