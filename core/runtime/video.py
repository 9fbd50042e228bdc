"""Video through an image model, streamed frame by frame with PyAV (FFmpeg): decode -> model -> encode.

Memory stays flat in clip length: the main thread decodes one frame and runs the model on it
(`ImageModel.restore`, the Python API's path, so a frame gets exactly an image's pixels); a
writer thread encodes and muxes behind a queue of at most `QUEUE_FRAMES` frames, so encoding
overlaps inference. What the clip had is kept: frame count, timestamps (constant or variable
frame rate: each frame keeps its pts), rotation metadata and the audio stream, whose packets
are copied, not re-encoded. The output goes to a temporary file renamed at the end
(`atomic_output`), so Ctrl-C or a failure leaves nothing under the output name.

Frames are processed in their stored orientation; the rotation is carried as metadata, as the
input did. Odd sizes: the model pads and crops (tiling.py); the encoder gets 4:2:0 chroma when
both sides are even and 4:4:4 otherwise (4:2:0 needs even sides).
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import sys
import threading
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from gan_app.errors import UserError
from gan_app.runtime.files import atomic_output
from gan_app.runtime.images import Picture, side_by_side
from gan_app.runtime.pyramid import AUTO

# Output container by extension (FFmpeg muxer names).
VIDEO_SUFFIXES = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".avi": "avi"}
CODECS = {"h264": "libx264", "h265": "libx265", "vp9": "libvpx-vp9"}   # --codec NAME -> FFmpeg encoder
# Encoder speed settings: on a 2-core machine the encoder shares the cores with the model, so a fast
# preset keeps the pipeline's overhead small (x264 `superfast` at the same CRF: the same quality target,
# larger files; veryfast cost +5% more end to end here; benchmarks/video.py speed measures it).
ENCODER_SPEED = {"h264": {"preset": "superfast"}, "h265": {"preset": "superfast"},
                 "vp9": {"b:v": "0", "deadline": "realtime", "cpu-used": "6"}}
QUEUE_FRAMES = 4          # processed frames waiting for the encoder: bounds memory, lets encoding overlap
INSTALL = "pip install 'gan-app[video]'"


@dataclasses.dataclass
class VideoOptions:
    """How clips are encoded and which part is processed (the video options of the image verbs)."""

    crf: int = 18                   # constant rate factor: 0 lossless .. 51 worst; 18 is visually near-lossless
    codec: str | None = None        # h264 | h265 | vp9; None: vp9 for .webm, h264 otherwise
    start: float = 0.0              # seconds into the clip
    duration: float | None = None   # seconds to process (None: to the end)

    def check(self) -> None:
        """One-line errors for bad values, before any work."""
        if not 0 <= self.crf <= 51:
            raise UserError(f"--crf must be in 0..51 (lower is better quality), got {self.crf}")
        if self.codec is not None and self.codec not in CODECS:
            raise UserError(f"--codec must be one of {', '.join(CODECS)}, got {self.codec!r}")
        if not (np.isfinite(self.start) and self.start >= 0):
            raise UserError(f"--start must be a number of seconds >= 0, got {self.start}")
        if self.duration is not None and not (np.isfinite(self.duration) and self.duration > 0):
            raise UserError(f"--duration must be a number of seconds > 0, got {self.duration}")


def is_video(path: Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def require_av() -> Any:
    """The `av` module, or a UserError saying how to install it."""
    try:
        import av
    except ImportError:
        raise UserError(f"video needs PyAV, which is not installed: run `{INSTALL}`") from None
    return av


def video_format(path: Path) -> str:
    """The FFmpeg muxer for `path`'s extension, or a UserError naming the video extensions."""
    fmt = VIDEO_SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise UserError(f"cannot write a video to {path}: use {', '.join(VIDEO_SUFFIXES)}")
    return fmt


@contextlib.contextmanager
def open_clip(path: Path) -> Iterator[Any]:
    """An input container with a video stream, or a one-line UserError (not a video, audio only)."""
    av = require_av()
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise UserError(f"{path} is not a video PyAV/FFmpeg can read ({_reason(exc)})") from None
    try:
        if not container.streams.video:
            raise UserError(f"{path} has no video stream" + (" (audio only)" if container.streams.audio else ""))
        yield container
    finally:
        container.close()


def probe_size(path: Path) -> tuple[int, int]:
    """(height, width) of a clip's frames, read from its header."""
    with open_clip(path) as container:
        ctx = container.streams.video[0].codec_context
        if not ctx.width or not ctx.height:
            raise UserError(f"{path}: the video stream declares no frame size; the file may be truncated")
        return ctx.height, ctx.width


def process_video(model: Any, source: Path, dest: Path, options: VideoOptions, *, tile: int | None = None,
                  level: int | str | None = None, overwrite: bool = False, compare: Path | None = None,
                  progress: bool = True) -> Path:
    """`source` clip through `model` (a `gan_app.api.ImageModel`) into `dest`; `compare`: also a
    side-by-side input|output clip there. Returns `dest`."""
    options.check()
    av = require_av()
    fmt, compare_fmt = video_format(dest), video_format(compare) if compare else None
    with open_clip(source) as container, contextlib.ExitStack() as outputs:
        video = container.streams.video[0]
        video.thread_type = "AUTO"                      # FFmpeg's frame/slice threads for decoding
        audio = container.streams.audio[0] if container.streams.audio else None
        tmp = outputs.enter_context(atomic_output(dest, overwrite=overwrite))
        tmp_compare = outputs.enter_context(atomic_output(compare, overwrite=overwrite)) if compare else None
        writers = [_Writer(av, tmp, fmt, video, audio, options, dest)]
        if compare:
            writers.append(_Writer(av, tmp_compare, compare_fmt, video, None, options, compare, panels=2))
        with contextlib.ExitStack() as running:
            for writer in writers:
                running.enter_context(writer)
            count = _run(av, container, video, audio, model, writers, options, tile, level, source, progress)
        if count == 0:
            raise UserError(f"{source}: no video frames" + (f" after --start {options.start:g}s" if options.start else ""))
    return dest


def _run(av, container, video, audio, model, writers, options, tile, level, source, progress) -> int:
    """Restore the frames a reader thread decodes and hand them to the writers; returns the frames processed."""
    total = _expected_frames(container, video, options)
    bar = _progress_bar(total, source.name, progress)
    count = 0
    try:
        for item in _threaded(_decoded(av, container, video, audio, options, source)):
            if item[0] == "audio":
                writers[0].audio_packet(item[1], options.start)
                continue
            _, rgb, frame = item
            if count == 0:      # a routed model (deblur's --model auto) picks one model for the whole clip
                model = model.for_clip(rgb)
                level = model.default_level if level is None else level
            if level == AUTO:   # one level for the whole clip, from its first frame: no flicker between levels
                level = model.resolve_level(rgb.transpose(2, 0, 1), level)
            result = model.restore(Picture(rgb, None, "RGB"), tile=tile, level=level)   # (H*s, W*s, 3) float
            for writer in writers:
                writer.frame(result, rgb, frame, count, options.start)
            count += 1
            bar.update(1)
    finally:
        bar.close()
    return count


def _decoded(av, container, video, audio, options: VideoOptions, source: Path) -> Iterator[tuple]:
    """("audio", packet) and ("video", (H, W, 3) uint8 in stored orientation, frame) items of the
    `--start`/`--duration` window, in demux order."""
    start, end = options.start, (options.start + options.duration) if options.duration else None
    if start > 0:
        try:
            container.seek(int(start / video.time_base), stream=video, backward=True)
        except (av.FFmpegError, OverflowError):
            return                                        # past the end: no frames (the caller says so)
    streams = [video] + ([audio] if audio is not None else [])
    count = 0
    try:
        for packet in container.demux(*streams):
            if packet.stream is audio:
                if packet.pts is not None and start <= _seconds(packet.pts, audio) and (end is None or _seconds(packet.pts, audio) < end):
                    yield "audio", packet
                continue
            for frame in packet.decode():
                seconds = _seconds(frame.pts, video) if frame.pts is not None else None
                if seconds is not None and seconds < start - 1e-6:
                    continue                              # before --start (the seek lands on a keyframe)
                if end is not None and seconds is not None and seconds >= end:
                    return
                yield "video", frame.to_ndarray(format="rgb24"), frame
                count += 1
    except av.FFmpegError as exc:
        raise UserError(f"{source} is truncated or corrupt at frame {count} ({_reason(exc)})") from None


def _threaded(items: Iterator[tuple]) -> Iterator[tuple]:
    """`items` produced on a thread, at most QUEUE_FRAMES ahead (decoding overlaps inference); an error
    in the producer is raised here. Stopping early (an error downstream) lets the producer finish."""
    done = object()
    buffer: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(done)
        except BaseException as exc:  # handed to the consumer, which raises it
            buffer.put(exc)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while (item := buffer.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():          # unblock a producer waiting on a full queue
            try:
                buffer.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()


class _Writer:
    """One output clip: a video encoder (and the copied audio stream) fed from a bounded queue by a thread."""

    def __init__(self, av, path: Path, fmt: str, video, audio, options: VideoOptions, shown: Path,
                 panels: int = 1):
        self.av, self.path, self.fmt, self.shown = av, path, fmt, shown
        self.video, self.audio, self.options, self.panels = video, audio, options, panels
        self.queue: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self.error: BaseException | None = None
        self.container = self.stream = self.audio_out = None
        self.pending_audio: list = []   # packets demuxed before the first frame opened the video stream
        self.thread = threading.Thread(target=self._drain, daemon=True)

    def __enter__(self) -> "_Writer":
        try:
            self.container = self.av.open(str(self.path), "w", format=self.fmt)
        except (self.av.FFmpegError, OSError) as exc:
            raise UserError(f"cannot write {self.shown} ({_reason(exc)})") from None
        if self.audio is not None:
            name = self.audio.codec_context.name
            if name not in self.container.supported_codecs:
                raise UserError(f"{self.shown.suffix} cannot hold the clip's {name} audio without re-encoding it; "
                                "use a .mkv output (it holds any codec)")
        self.thread.start()
        return self

    def frame(self, result: np.ndarray, rgb: np.ndarray, source_frame, index: int, start: float) -> None:
        """Queue one restored frame (H', W', 3) float (and its input (H, W, 3) uint8, for a side-by-side
        clip) with the input frame's timestamp; quantised on the writer's thread."""
        self._put(("video", result, rgb if self.panels == 2 else None, source_frame.pts, index, start,
                   source_frame.rotation))

    def audio_packet(self, packet, start: float) -> None:
        self._put(("audio", packet, start))

    def _put(self, item) -> None:
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def __exit__(self, kind, value, traceback) -> None:
        self.queue.put(None)
        self.thread.join()
        try:
            if kind is None and self.error is None:
                if self.stream is not None:
                    for packet in self.stream.encode(None):   # flush the encoder's delayed frames
                        self.container.mux(packet)
        finally:
            self.container.close()
        if kind is None and self.error is not None:
            raise self.error

    def _drain(self) -> None:
        try:
            while (item := self.queue.get()) is not None:
                if self.error is None:
                    self._write(item)
        except BaseException as exc:  # handed to the main thread, which raises it
            self.error = exc if isinstance(exc, UserError) else UserError(f"cannot encode {self.shown} ({_reason(exc)})")
            while self.queue.get() is not None:
                pass

    def _write(self, item) -> None:
        if item[0] == "audio":
            _, packet, start = item
            if self.stream is None:   # the header is written with the video stream, which the first frame opens
                self.pending_audio.append((packet, start))
                return
            offset = int(round(start / self.audio.time_base))
            packet.pts, packet.dts = packet.pts - offset, (packet.dts - offset) if packet.dts is not None else None
            if packet.dts is not None and packet.dts < 0:
                return
            packet.stream = self.audio_out
            self.container.mux(packet)
            return
        _, result, rgb, pts, index, start, rotation = item
        pixels = np.clip(result * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)            # (H', W', 3), rounded
        if rgb is not None:
            pixels = np.asarray(side_by_side(rgb, pixels))
        if self.stream is None:
            self._open_video(pixels.shape[0], pixels.shape[1], rotation)
            for packet, start_ in self.pending_audio:
                self._write(("audio", packet, start_))
            self.pending_audio.clear()
        frame = self.av.VideoFrame.from_ndarray(pixels, format="rgb24")
        frame = frame.reformat(format=self.stream.pix_fmt)
        time_base = self.video.time_base
        frame.pts = (pts - int(round(start / time_base))) if pts is not None else int(round(index / self._rate() / time_base))
        frame.time_base = time_base
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def _rate(self) -> Fraction:
        return self.video.average_rate or self.video.guessed_rate or Fraction(25)

    def _open_video(self, height: int, width: int, rotation: int) -> None:
        codec = self.options.codec or ("vp9" if self.fmt == "webm" else "h264")
        options = {"crf": str(self.options.crf)} | ENCODER_SPEED[codec]
        stream = self.container.add_stream(CODECS[codec], rate=self._rate(), options=options)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
        stream.time_base = self.video.time_base
        stream.codec_context.time_base = self.video.time_base
        if rotation:
            stream.set_display_rotation(rotation)
        self.stream = stream
        if self.audio is not None:   # after the video stream, so players list video first
            self.audio_out = self.container.add_stream_from_template(self.audio)


def _seconds(pts: int, stream) -> float:
    return float(pts * stream.time_base)


def _expected_frames(container, video, options: VideoOptions) -> int | None:
    """Frames the progress bar expects: the stream's count, else duration x rate; None when unknown."""
    rate = video.average_rate or video.guessed_rate
    if video.duration and video.time_base:
        seconds = float(video.duration * video.time_base)
    elif container.duration:
        seconds = container.duration / 1e6
    else:
        return video.frames or None
    seconds = max(0.0, seconds - options.start)
    if options.duration is not None:
        seconds = min(seconds, options.duration)
    return int(round(seconds * float(rate))) if rate else (video.frames or None)


def _progress_bar(total: int | None, name: str, enabled: bool):
    """A tqdm bar on stderr (frames, fps, ETA), or a do-nothing one."""
    try:
        from tqdm import tqdm
    except ImportError:
        enabled = False
    if not enabled:
        return _NoBar()
    return tqdm(total=total, desc=name, unit="frame", file=sys.stderr, leave=False, dynamic_ncols=True)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
