"""SIGTERM/SIGHUP clean up like Ctrl-C: no hidden partial file, a training run saves a checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gan_app.runtime.files import atomic_output
from gan_app.signals import Terminated, raise_on_termination


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_an_atomic_write_leaves_nothing(tmp_path, sig):
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    raise_on_termination()
    try:
        with pytest.raises(Terminated) as caught:
            with atomic_output(tmp_path / "out.png") as tmp:
                tmp.write_bytes(b"half a file")
                os.kill(os.getpid(), sig)
                time.sleep(5)                      # the handler raises before this returns
        assert caught.value.exit_code == 128 + sig
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("workers, whole_group", [(0, False), (1, True)])
def test_sigterm_makes_training_save_a_checkpoint(tmp_path, workers, whole_group):
    """Also when the signal reaches every process of the group (timeout, Slurm), data workers included."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gan_app.apps.cli", "train", "toy", "--recipe", "tiny", "--out", str(out),
         "--set", "train.steps=1000000", "--set", "train.ckpt_every=1000000", "--set", "train.sample_every=1000000",
         "--set", f"train.num_workers={workers}"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, start_new_session=True)
    deadline = time.time() + 120
    while not (out / "config.json").is_file() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    time.sleep(3.0 if workers else 1.0)             # a few steps in (workers started)
    if whole_group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "terminated by SIGTERM" in err and "Traceback" not in err, err
    saved = list(Path(out, "checkpoints").glob("*.safetensors"))
    assert saved and "continue with --resume" in err


def test_a_worker_keeps_quiet_about_its_main_process_leaving_but_not_about_other_errors():
    """multiprocessing's resource sharer reports through sys.excepthook, other threads through threading's."""
    code = ("import sys, threading\n"
            "from gan_app.train.batches import leave_termination_to_the_main_process\n"
            "leave_termination_to_the_main_process(0)\n"
            "sys.excepthook(ConnectionResetError, ConnectionResetError('peer left'), None)\n"
            "sys.excepthook(ValueError, ValueError('a real error'), None)\n"
            "def fail(exc):\n"
            "    raise exc\n"
            "for exc in (BrokenPipeError('pipe'), KeyError('a real thread error')):\n"
            "    t = threading.Thread(target=fail, args=(exc,)); t.start(); t.join()\n")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr
    assert "a real error" in err and "a real thread error" in err
    assert "peer left" not in err and "pipe" not in err
