"""Multi-GPU / multi-node training with PyTorch DDP, launched by torchrun.

torchrun starts one process per GPU and sets RANK, WORLD_SIZE and LOCAL_RANK (plus
MASTER_ADDR/MASTER_PORT); this module reads them, joins the process group (NCCL on CUDA,
gloo on CPU), and wraps modules in DistributedDataParallel. Without those variables the
run is a single process and every helper here is a no-op. There is no home-made process
spawning: `torchrun --nproc_per_node N -m gan_app.apps.cli train HEAD ...`.

Rules the engine follows: all ranks build identical initial weights (same seed; DDP also
broadcasts rank 0's at wrap time), each rank draws its own noise (seeded with its rank),
the data is split with DistributedSampler, and only rank 0 logs, samples and writes
checkpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from gan_app.errors import UserError
from gan_app.train.devices import pick_device


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits in the job (a single process is rank 0 of world size 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False  # True when `setup` created the process group (and must destroy it)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device_name: str) -> tuple[DistEnv, torch.device]:
    """Read torchrun's variables, pick this process's device, join the process group."""
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)  # this process's GPU is the current one (per-device seeding, NCCL)
    if world == 1:
        return DistEnv(), device
    if device.type == "mps":
        raise UserError("multi-process training is not supported on MPS; use CUDA GPUs or --device cpu")
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistEnv(rank, world, local_rank, owns), device


def shutdown(env: DistEnv) -> None:
    """Leave the process group if `setup` created it."""
    if env.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def sync_batchnorm(module: nn.Module, env: DistEnv, device: torch.device, enabled: bool) -> nn.Module:
    """BatchNorm layers synchronised across ranks (statistics over the global batch) when asked."""
    if not (enabled and env.enabled):
        return module
    if device.type != "cuda":
        raise UserError("train.sync_bn needs CUDA GPUs (PyTorch's SyncBatchNorm has no CPU kernel); set it to false")
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


def wrap(module: nn.Module, env: DistEnv, device: torch.device) -> nn.Module:
    """`module` wrapped in DistributedDataParallel under torchrun, else unchanged."""
    if not env.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def mean_across(x: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """Average of `x` over ranks (every rank gets the result); `x` itself when single-process."""
    if not env.enabled:
        return x
    x = x.clone()
    dist.all_reduce(x, op=dist.ReduceOp.SUM)
    return x / env.world_size


def barrier(env: DistEnv) -> None:
    """Wait for every rank (e.g. until rank 0 has written the final checkpoint)."""
    if env.enabled:
        dist.barrier()
