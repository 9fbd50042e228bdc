"""DDP on CPU with gloo: 2 processes launched by torchrun against one process on the same global batch.

The toy pairs each point with a fixed latent, so a step depends only on its batch; with the
rank-strided sampler the two ranks' batches together are the single process's batch. DDP
averages the ranks' gradients (each the mean over its half), which equals the gradient of
the mean over the whole batch, so both runs follow the same trajectory up to float
summation order. Two critic steps per generator step and R1 (a double backward through
the DDP-wrapped critic) are on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gan_app.train.logging import read_metrics

WORKER = Path(__file__).with_name("ddp_worker.py")


def _run(args: list[str], tmp: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, *args], cwd=tmp, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.slow
def test_two_gloo_ranks_match_each_other_and_one_process(tmp_path):
    ddp, single = tmp_path / "ddp", tmp_path / "single"
    _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(WORKER), str(ddp), "16"], tmp_path)
    _run([str(WORKER), str(single), "32"], tmp_path)

    rank0, rank1 = load_file(ddp / "rank0.safetensors"), load_file(ddp / "rank1.safetensors")
    reference = load_file(single / "rank0.safetensors")
    for name in reference:
        assert torch.equal(rank0[name], rank1[name]), name  # DDP keeps the ranks identical
        torch.testing.assert_close(rank0[name], reference[name], rtol=1e-5, atol=1e-6)

    ddp_log, single_log = read_metrics(ddp / "metrics.jsonl"), read_metrics(single / "metrics.jsonl")
    assert [r["step"] for r in ddp_log] == [r["step"] for r in single_log] == list(range(1, 7))
    for a, b in zip(ddp_log, single_log):
        for term in ("G/adv", "D/adv", "D/r1", "D/total"):
            assert a[term] == pytest.approx(b[term], rel=1e-5, abs=1e-7), (a["step"], term)
    # Only rank 0 writes the run folder.
    assert sorted(p.name for p in (ddp / "checkpoints").iterdir()) == ["step_000006.safetensors"]
