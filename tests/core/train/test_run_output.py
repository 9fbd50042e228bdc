"""Where a run writes: a bad --out is refused before any work, and a full disk is a one-line error."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from gan_app.apps.toy.head import HEAD
from gan_app.errors import UserError
from gan_app.train.logging import MetricsLog
from gan_app.train.loop import fit


@pytest.mark.parametrize("where", ["file", "/dev/null"])
def test_an_out_that_is_not_a_folder_is_refused(tiny_run, tmp_path, where):
    out = tmp_path / "run.txt" if where == "file" else Path(where)
    if where == "file":
        out.write_text("not a run folder")
    with pytest.raises(UserError, match=f"output folder {out} exists and is not a folder; choose another --out"):
        fit(HEAD, tiny_run(steps=1), out)


def test_an_out_in_a_read_only_folder_is_refused_before_any_work(tiny_run, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    access = os.access  # root may write anywhere: make the folder read-only as a read-only mount would
    monkeypatch.setattr(os, "access", lambda path, mode: access(path, mode) and Path(path) != locked)
    with pytest.raises(UserError, match="output folder .*locked/run cannot be made: .*locked is not writable"):
        fit(HEAD, tiny_run(steps=1), locked / "run")
    with pytest.raises(UserError, match="output folder .*locked is not writable; choose another --out"):
        fit(HEAD, tiny_run(steps=1), locked)
    assert list(locked.iterdir()) == []


def test_a_full_disk_at_a_checkpoint_is_a_one_line_error(tiny_run, tmp_path, monkeypatch):
    def full(tensors, filename, metadata=None):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)

    monkeypatch.setattr("safetensors.torch.save_file", full)
    with pytest.raises(UserError, match=r"cannot write .*step_000002\.safetensors: No space left on device; free some"):
        fit(HEAD, tiny_run(steps=2), tmp_path / "run")
    assert list((tmp_path / "run" / "checkpoints").iterdir()) == []   # no temp file left


def test_a_metrics_log_that_cannot_be_written_is_a_one_line_error(tmp_path):
    (tmp_path / "metrics.jsonl").mkdir()   # EISDIR, as a full disk or read-only mount would fail the open
    with pytest.raises(UserError, match="cannot write .*metrics.jsonl: Is a directory; choose another output"):
        MetricsLog(tmp_path / "metrics.jsonl").write({"step": 1})
