"""The video options every image verb takes (`gan-app deblur|upscale|run ... clip.mp4`), declared once.

Typer reads options from each command's signature, so the verbs write `crf: int = CRF` and pass the
values to `video_options`; the meaning and defaults live in `gan_app.runtime.video.VideoOptions`.
"""

from __future__ import annotations

from typing import Optional

import typer

from gan_app.runtime.video import CODECS, VideoOptions

CRF = typer.Option(VideoOptions.crf, "--crf", help="Video quality: 0 (lossless) .. 51; 18 is near-lossless.")
CODEC = typer.Option(None, "--codec", help=f"Video encoder: {', '.join(CODECS)} (default: vp9 for .webm, else h264).")
START = typer.Option(0.0, "--start", help="Video: start this many seconds in (a quick preview with --duration).")
DURATION = typer.Option(None, "--duration", help="Video: process only this many seconds.")


def video_options(crf: int, codec: Optional[str], start: float, duration: Optional[float]) -> VideoOptions:
    """The checked `VideoOptions` of a verb's arguments."""
    options = VideoOptions(crf=crf, codec=codec, start=start, duration=duration)
    options.check()
    return options
