"""Distributed helpers (mmengine.dist underneath): launcher detection, device choice, rank-0 guards."""
from __future__ import annotations

import atexit
import datetime
import os
import sys

import torch
from mmengine import dist


_previous_excepthook = sys.excepthook
_failed = False  # set by _note_failure: this process is exiting on an uncaught exception


def setup_distributed(backend: str | None = None) -> tuple[int, int]:
    """Initialise torch.distributed when launched by ``torchrun`` (env ``WORLD_SIZE`` > 1).

    Backend: NCCL when CUDA is available, gloo otherwise (CPU tests). The group is shut down when the process
    exits (:func:`_shutdown`). Returns (rank, world_size).
    """
    if int(os.environ.get('WORLD_SIZE', '1')) > 1 and not dist.is_distributed():
        if backend is None:
            backend = 'nccl' if torch.cuda.is_available() else 'gloo'
        if backend == 'nccl':
            dist.init_dist('pytorch', backend=backend)
        else:  # mmengine's launcher calls torch.cuda.set_device, which fails on CPU-only machines
            torch.distributed.init_process_group(backend=backend)
        atexit.register(_shutdown)
        sys.excepthook = _note_failure
    return dist.get_rank(), dist.get_world_size()


def _shutdown(timeout_s: float = 600.0) -> None:
    """At exit, the ranks leave together: a gloo rank whose peer closed its sockets first can abort (SIGABRT)
    while tearing down its own group. So gloo ranks that finished meet in a barrier (up to ``timeout_s``: one
    rank may still be writing results) before each destroys its group; a rank that failed (an uncaught
    exception) leaves at once, and torchrun stops the others."""
    if not torch.distributed.is_initialized():
        return
    if torch.distributed.get_backend() == 'gloo' and not _failed:
        try:
            torch.distributed.monitored_barrier(timeout=datetime.timedelta(seconds=timeout_s))
        except RuntimeError:
            pass  # another rank failed or left: torchrun reports it
    torch.distributed.destroy_process_group()


def _note_failure(exc_type, exc, tb) -> None:
    global _failed
    _failed = True
    _previous_excepthook(exc_type, exc, tb)


def pick_device(requested: str = 'auto') -> torch.device:
    """``auto``: this rank's GPU when CUDA is available, else CPU."""
    if requested == 'auto':
        requested = 'cuda' if torch.cuda.is_available() else 'cpu'
    if requested == 'cuda':
        return torch.device('cuda', int(os.environ.get('LOCAL_RANK', '0')))
    return torch.device(requested)


def env_rank_world(rank: int | None = None, world_size: int | None = None) -> tuple[int, int]:
    """Shard of a process that need not join a process group: explicit values, else torchrun's
    ``RANK``/``WORLD_SIZE``, else (0, 1)."""
    r = int(os.environ.get('RANK', 0)) if rank is None else int(rank)
    w = int(os.environ.get('WORLD_SIZE', 1)) if world_size is None else int(world_size)
    if not 0 <= r < w:
        raise ValueError(f'shard rank {r} is not in [0, {w})')
    return r, w


def shard(items: list, rank: int | None = None, world: int | None = None) -> list:
    """This rank's share of ``items`` (strided, so every rank gets a similar mix)."""
    rank = dist.get_rank() if rank is None else rank
    world = dist.get_world_size() if world is None else world
    return items[rank::world]


def torchrun_command(nproc: int, script: str | os.PathLike, *args, port: int | None = None) -> list[str]:
    """The command that launches ``script args`` on ``nproc`` local processes as users do (``torchrun``, run as
    ``python -m torch.distributed.run`` with this interpreter): ``--standalone`` (the rendezvous picks a free
    port) unless ``port`` is given."""
    where = ['--master_port', str(port)] if port is not None else ['--standalone']
    return [sys.executable, '-m', 'torch.distributed.run', *where, '--nproc_per_node', str(nproc), str(script),
            *(str(a) for a in args)]
