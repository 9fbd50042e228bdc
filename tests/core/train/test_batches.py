"""Deterministic, resumable, rank-split batch order; the in-memory fast path."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

from gan_app.errors import UserError
from gan_app.train.batches import BatchStream, fixed_batch
from gan_app.train.distributed import DistEnv

CPU = torch.device("cpu")


class Numbers(Dataset):
    """Item i is {"i": i}: batches show exactly which items were drawn."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        return {"i": torch.tensor(index)}


class BatchedNumbers(Numbers):
    def __getitems__(self, indices: list[int]) -> dict:
        return {"i": torch.as_tensor(indices)}


def _take(stream: BatchStream, n: int) -> list[list[int]]:
    return [next(stream)["i"].tolist() for _ in range(n)]


def test_each_epoch_is_a_seeded_permutation():
    stream = BatchStream(Numbers(12), 4, seed=3, env=DistEnv(), device=CPU)
    epochs = [sum(_take(stream, 3), []) for _ in range(2)]
    assert all(sorted(e) == list(range(12)) for e in epochs)
    assert epochs[0] != epochs[1]
    again = BatchStream(Numbers(12), 4, seed=3, env=DistEnv(), device=CPU)
    assert sum(_take(again, 6), []) == epochs[0] + epochs[1]
    other = BatchStream(Numbers(12), 4, seed=4, env=DistEnv(), device=CPU)
    assert sum(_take(other, 3), []) != epochs[0]


def test_ranks_split_the_single_process_global_batch():
    single = _take(BatchStream(Numbers(40), 8, seed=0, env=DistEnv(), device=CPU), 5)  # 5 batches, crosses an epoch
    ranks = [_take(BatchStream(Numbers(40), 4, seed=0, env=DistEnv(r, 2, r), device=CPU), 5) for r in range(2)]
    for t in range(5):
        assert sorted(ranks[0][t] + ranks[1][t]) == sorted(single[t])
        assert not set(ranks[0][t]) & set(ranks[1][t])


def test_incomplete_last_batch_is_dropped_and_state_resumes_mid_epoch():
    stream = BatchStream(Numbers(10), 3, seed=1, env=DistEnv(), device=CPU)  # 3 batches per epoch, 1 item dropped
    assert stream.batches_per_epoch() == 3
    straight = _take(stream, 8)
    first = BatchStream(Numbers(10), 3, seed=1, env=DistEnv(), device=CPU)
    head = _take(first, 5)
    assert first.state() == {"epoch": 1, "position": 2}
    resumed = BatchStream(Numbers(10), 3, seed=1, env=DistEnv(), device=CPU, **first.state())
    assert head + _take(resumed, 3) == straight
    at_end = BatchStream(Numbers(10), 3, seed=1, env=DistEnv(), device=CPU, epoch=0, position=3)
    assert _take(at_end, 1) == straight[3:4]  # a finished epoch continues with the next one


def test_fast_path_matches_item_path_and_leaves_global_rng_alone():
    plain = BatchStream(Numbers(64), 16, seed=2, env=DistEnv(), device=CPU)
    fast = BatchStream(BatchedNumbers(64), 16, seed=2, env=DistEnv(), device=CPU)
    state = torch.get_rng_state()
    assert _take(plain, 6) == _take(fast, 6)
    assert torch.equal(torch.get_rng_state(), state)  # training noise does not depend on loader restarts
    assert fixed_batch(BatchedNumbers(64), 5)["i"].tolist() == [0, 1, 2, 3, 4]
    assert fixed_batch(Numbers(3), 5)["i"].tolist() == [0, 1, 2]


def test_workers_give_the_same_batches():
    plain = _take(BatchStream(Numbers(32), 8, seed=5, env=DistEnv(), device=CPU), 5)
    workers = _take(BatchStream(Numbers(32), 8, seed=5, env=DistEnv(), device=CPU, num_workers=1), 5)
    assert plain == workers


def test_too_little_data_is_a_user_error():
    with pytest.raises(UserError, match="fewer than one global batch of 8"):
        BatchStream(Numbers(7), 4, seed=0, env=DistEnv(0, 2, 0), device=CPU)
