"""Training batches in a deterministic, resumable order.

The order of epoch `e` is a permutation drawn from `seed + e` (DistributedSampler's own
rule) and split across ranks by striding, so with W processes of batch B the union of
the ranks' t-th batches is exactly the t-th batch of a single process with batch W*B.
The stream's whole state is (epoch, position in epoch): resuming rebuilds the epoch's
order and skips the batches already used. Incomplete last batches are dropped.

Worker processes (num_workers > 0) get their seeds from a generator seeded with
(seed, rank, epoch), never from the global RNG, so starting a loader mid-epoch does not
shift the training noise. Random augmentations inside workers are re-drawn after a
resume, so bit-for-bit resume is guaranteed with num_workers=0.

Fast path for in-memory data: a dataset whose `__getitems__(indices)` returns an already
batched dict of tensors skips per-item fetching and collation (PyTorch's DataLoader calls
`__getitems__` when a dataset defines it).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, default_collate

from gan_app.errors import UserError
from gan_app.signals import SIGNALS
from gan_app.train.devices import place_tensor
from gan_app.train.distributed import DistEnv
from gan_app.train.seeding import derive_seed


def collate(items: Any) -> Any:
    """A batch from a list of dict items, or as is when `__getitems__` already batched it."""
    return items if isinstance(items, dict) else default_collate(items)


def batch_of(dataset: Dataset, indices: list[int]) -> dict:
    """The items `indices` of `dataset` as one (CPU) batch."""
    getitems = getattr(dataset, "__getitems__", None)
    return collate(getitems(indices) if getitems else [dataset[i] for i in indices])


def fixed_batch(dataset: Dataset, n: int) -> dict:
    """The first `n` items of `dataset` as one batch: the fixed batch of the sample grids."""
    return batch_of(dataset, list(range(min(n, len(dataset)))))


def leave_termination_to_the_main_process(worker_id: int) -> None:
    """DataLoader workers ignore SIGTERM/SIGHUP: the main process turns them into an interrupt checkpoint.

    `timeout`, Slurm and a closing terminal signal every process of the job, not just the main one; a
    worker killed first makes PyTorch raise "DataLoader worker ... killed by signal" inside the training
    step, a traceback instead of the checkpoint. The loader still stops its workers itself (done event),
    and a worker whose main process died exits through PyTorch's parent watchdog. While the main process
    exits, a worker's multiprocessing resource-sharer thread may find its connection gone: that broken
    pipe is expected at shutdown and is not printed as a traceback (any other thread error still is). The sharer's
    thread reports through `sys.excepthook`, other threads through `threading.excepthook`: both are quieted.
    """
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):   # blocked since the fork (`_workers_start_deaf`): a pending one is dropped
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    threading.excepthook = _quiet_when_the_main_process_left
    sys.excepthook = _quiet_sys_hook_when_the_main_process_left   # multiprocessing's resource sharer reports here


@contextlib.contextmanager
def _workers_start_deaf():
    """Block SIGTERM/SIGHUP while the loader forks its workers, so none arrives before the worker ignores it.

    PyTorch installs its own SIGTERM handler at the start of each worker, before `worker_init_fn`; a signal in
    that window would kill the worker. Forked children inherit the blocked mask; the main process gets a signal
    that came meanwhile as soon as it is unblocked here.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_GONE = (BrokenPipeError, ConnectionResetError, EOFError)   # what a worker sees when the main process has left


def _quiet_when_the_main_process_left(args: threading.ExceptHookArgs) -> None:
    if not issubclass(args.exc_type, _GONE):
        threading.__excepthook__(args)


def _quiet_sys_hook_when_the_main_process_left(exc_type, exc, tb) -> None:
    if not issubclass(exc_type, _GONE):
        sys.__excepthook__(exc_type, exc, tb)


class BatchStream:
    """An endless iterator of device batches for this rank, resumable at (epoch, position)."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int,
        env: DistEnv,
        device: torch.device,
        *,
        num_workers: int = 0,
        channels_last: bool = False,
        epoch: int = 0,
        position: int = 0,
    ) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.env = env
        self.device = device
        self.num_workers = num_workers
        self.channels_last = channels_last
        self.epoch = epoch
        self.position = position
        if self.batches_per_epoch() == 0:
            global_batch = batch_size * env.world_size
            raise UserError(f"the dataset has {len(dataset)} items, fewer than one global batch of {global_batch}; add data or lower train.batch_size")
        self._iter = None

    def batches_per_epoch(self) -> int:
        """Full batches per epoch on each rank."""
        return len(self.dataset) // self.env.world_size // self.batch_size

    def state(self) -> dict:
        """JSON-able position of the stream (what a checkpoint stores)."""
        return {"epoch": self.epoch, "position": self.position}

    def _epoch_batches(self) -> list[list[int]]:
        sampler = DistributedSampler(
            self.dataset, num_replicas=self.env.world_size, rank=self.env.rank, shuffle=True, seed=self.seed, drop_last=True
        )
        sampler.set_epoch(self.epoch)
        indices = list(sampler)
        n = self.batch_size
        return [indices[i * n : (i + 1) * n] for i in range(len(indices) // n)]

    def _start_epoch(self) -> None:
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.env.rank, self.epoch))
        loader = DataLoader(
            self.dataset,
            batch_sampler=self._epoch_batches()[self.position :],
            collate_fn=collate,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            generator=generator,
            worker_init_fn=leave_termination_to_the_main_process if self.num_workers else None,
        )
        with _workers_start_deaf():
            self._iter = iter(loader)

    def __iter__(self) -> "BatchStream":
        return self

    def __next__(self) -> dict:
        while True:
            if self._iter is None:
                self._start_epoch()
            try:
                batch = next(self._iter)
                break
            except StopIteration:
                self.epoch, self.position, self._iter = self.epoch + 1, 0, None
        self.position += 1
        return self.to_device(batch)

    def to_device(self, batch: dict) -> dict:
        """Tensors of `batch` on the training device; other values (e.g. captions) untouched."""
        return {k: place_tensor(v, self.device, self.channels_last) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
