"""Video through the image verbs: streamed, frame count / timestamps / audio / rotation kept, nothing partial left."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

import gan_app
from gan_app.errors import UserError
from gan_app.runtime.batch import process_images
from gan_app.runtime.video import VideoOptions, process_video

av = pytest.importorskip("av")

# tests/core/clips.py by path (tests are not a package): the clip maker
_clips = runpy.run_path(str(Path(__file__).parents[1] / "clips.py"))
make_clip, RATE = _clips["make_clip"], _clips["RATE"]


def read_clip(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = list(container.decode(video))
        return {"pts_s": [round(float(f.pts * video.time_base), 4) for f in frames], "size": (video.height, video.width),
                "rate": video.average_rate, "streams": [s.type for s in container.streams],
                "rotation": frames[0].rotation if frames else None,
                "first": frames[0].to_ndarray(format="rgb24") if frames else None}


@pytest.fixture(scope="module")
def conv(exported):
    return gan_app.load(exported["conv"], threads=1)


def test_frames_timestamps_audio_and_odd_size_are_kept(conv, tmp_path):
    clip = make_clip(tmp_path / "in.mp4")
    (out,) = process_images(conv, [str(clip)], None, video=VideoOptions(crf=0), progress=False)
    assert out.name == "in_out.mp4"
    got, want = read_clip(out), read_clip(clip)
    assert got["pts_s"] == want["pts_s"] and len(got["pts_s"]) == 8
    assert got["size"] == (49, 65) and got["rate"] == RATE and got["streams"] == ["video", "audio"]
    # each frame is the image API's result for the decoded input frame (crf 0: only YUV rounding differs)
    expected = conv(want["first"]).astype(np.int16)
    assert np.abs(got["first"].astype(np.int16) - expected).max() <= 6
    assert np.abs(got["first"].astype(np.int16) - want["first"]).max() > 6   # and the model changed it


def test_variable_frame_rate_no_audio_rotation_and_upscale(exported, tmp_path):
    clip = make_clip(tmp_path / "vfr.mp4", pts=[0, 1, 3, 7, 8], size=(24, 32), audio=False, rotation=90)
    sr = gan_app.load(exported["sr"], threads=1)
    out = process_video(sr, clip, tmp_path / "big.mkv", VideoOptions(), progress=False)
    got = read_clip(out)
    assert got["pts_s"] == pytest.approx(read_clip(clip)["pts_s"], abs=1e-3)   # Matroska counts milliseconds
    assert got["size"] == (48, 64)
    assert got["streams"] == ["video"] and got["rotation"] == read_clip(clip)["rotation"] != 0


def test_start_duration_and_compare(conv, tmp_path):
    clip = make_clip(tmp_path / "c.mp4", frames=12)
    (out,) = process_images(conv, [str(clip)], str(tmp_path / "o.mp4"), compare=True,
                            video=VideoOptions(start=0.3, duration=0.5), progress=False)
    got = read_clip(out)
    assert len(got["pts_s"]) == 6 and got["pts_s"][0] == pytest.approx(4 / 12 - 0.3, abs=1e-3)  # frames 4..9, shifted
    side = read_clip(tmp_path / "o_compare.mp4")
    assert side["size"] == (49, 130) and len(side["pts_s"]) == 6


class _FailingModel:
    """An ImageModel stand-in that breaks on the third frame."""

    scale = 1
    default_level = 1

    def for_clip(self, first_frame):
        return self

    def __init__(self, model):
        self.model, self.calls = model, 0

    def restore(self, picture, **options):
        self.calls += 1
        if self.calls == 3:
            raise UserError("model failed on frame 3")
        return self.model.restore(picture, **options)


def test_failures_leave_nothing_behind(conv, tmp_path):
    clip = make_clip(tmp_path / "in.mp4")
    with pytest.raises(UserError, match="frame 3"):
        process_video(_FailingModel(conv), clip, tmp_path / "out.mp4", VideoOptions(), progress=False)
    with pytest.raises(UserError, match="no video frames after --start 5s"):
        process_video(conv, clip, tmp_path / "late.mp4", VideoOptions(start=5.0), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


class _LevelRecorder:
    """An ImageModel stand-in that records the levels asked of it; "auto" resolves to 2."""

    scale = 1
    default_level = 1

    def for_clip(self, first_frame):
        return self

    def __init__(self, model):
        self.model, self.resolved, self.levels = model, 0, []

    def resolve_level(self, pixels, level):
        self.resolved += 1
        return 2 if level == "auto" else level

    def restore(self, picture, **options):
        self.levels.append(options["level"])
        return self.model.restore(picture, **options)


def test_auto_level_is_chosen_once_per_clip(conv, tmp_path):
    recorder = _LevelRecorder(conv)
    process_video(recorder, make_clip(tmp_path / "in.mp4"), tmp_path / "out.mp4", VideoOptions(), level="auto",
                  progress=False)
    assert recorder.resolved == 1 and len(recorder.levels) > 2 and set(recorder.levels) == {2}


def test_bad_videos_and_options_are_one_line_errors(tmp_path, monkeypatch, capsys):
    from gan_app.apps.cli import main

    clip = make_clip(tmp_path / "in.mp4")
    (tmp_path / "text.mp4").write_text("not a video")
    (tmp_path / "cut.mp4").write_bytes(clip.read_bytes()[:200])
    container = av.open(str(tmp_path / "sound.m4a"), "w", format="mp4")
    stream = container.add_stream("aac", rate=16000)
    tone = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp", layout="mono")
    tone.sample_rate, tone.pts = 16000, 0
    for packet in [*stream.encode(tone), *stream.encode(None)]:
        container.mux(packet)
    container.close()
    (tmp_path / "exists.mp4").write_bytes(b"keep")
    cases = [
        (["text.mp4"], "is not a video"),
        (["cut.mp4"], "video"),
        (["in.mp4", "-o", "in.png"], "cannot write a video to"),
        (["in.mp4", "-o", "exists.mp4"], "already exists"),
        (["in.mp4", "--crf", "60"], "--crf must be in 0..51"),
        (["in.mp4", "--codec", "divx"], "--codec must be one of"),
        (["in.mp4", "--duration", "0"], "--duration must be"),
    ]
    monkeypatch.chdir(tmp_path)
    for args, message in cases:
        monkeypatch.setattr("sys.argv", ["gan-app", "deblur", *args])
        with pytest.raises(SystemExit) as exit_:
            main()
        err = capsys.readouterr().err.strip()
        assert exit_.value.code != 0 and message in err, (args, err)
        assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert (tmp_path / "exists.mp4").read_bytes() == b"keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4", "exists.mp4", "in.mp4", "sound.m4a", "text.mp4"]
    with pytest.raises(UserError, match=r"no video stream \(audio only\)"):
        process_video(None, tmp_path / "sound.m4a", tmp_path / "o.mp4", VideoOptions(), progress=False)


def test_a_routed_model_picks_once_per_clip(tmp_path, monkeypatch):
    """deblur's `--model auto` on a clip: the head's route is asked once, from the first frame, so a clip never
    switches models between frames."""
    from gan_app.api import RoutedImageModel

    auto = gan_app.load("deblur", threads=1)
    assert isinstance(auto, RoutedImageModel)
    asked = []
    monkeypatch.setattr(auto.head_object, "route", lambda pixels: asked.append(pixels.shape) or "deblur-v1-camera")
    out = process_video(auto, make_clip(tmp_path / "in.mp4"), tmp_path / "out.mp4", VideoOptions(), progress=False)
    assert len(asked) == 1 and read_clip(out)["size"] == read_clip(tmp_path / "in.mp4")["size"]
