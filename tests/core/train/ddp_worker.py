"""Run by test_distributed.py under torchrun (or alone): a tiny toy fit, then dump this rank's weights.

Usage: python ddp_worker.py OUT_DIR BATCH_SIZE
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from gan_app.apps.toy.head import ToyHead
from gan_app.train.loop import fit

BUILT: list = []


class RecordingToyHead(ToyHead):
    """The toy head, remembering the modules it built so this process can dump them."""

    def build(self, model_cfg):
        BUILT[:] = super().build(model_cfg)
        return tuple(BUILT)


def main() -> None:
    out, batch = Path(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(1)
    head = RecordingToyHead()
    run = head.recipe("tiny")
    run.model.width, run.model.depth = 16, 2
    run.data.size = 256
    run.train.steps, run.train.batch_size, run.train.log_every, run.train.n_critic = 6, batch, 1, 2
    run.train.sample_every, run.train.ckpt_every = 0, 6
    fit(head, run, out)
    g, d = BUILT
    tensors = {**{f"G.{k}": v for k, v in g.state_dict().items()}, **{f"D.{k}": v for k, v in d.state_dict().items()}}
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(out / f"rank{os.environ.get('RANK', '0')}.safetensors"))


if __name__ == "__main__":
    main()
