"""``IterTrainer``: the one iteration-based training loop shared by every stage (CAM, segmenter, saliency).

Built from mmengine parts: ``build_optim_wrapper`` (paramwise lr multipliers, AMP via ``AmpOptimWrapper``),
mmengine parameter schedulers (``PolyLR``, ``LinearLR`` warm-up; ``by_epoch=False``), ``MMLogger`` and
``mmengine.dist``. Models follow the contract in ``docs/ARCHITECTURE.md``: ``model.loss(batch)`` returns a
dict whose ``loss_*`` entries are summed.

Config keys read:
    train_cfg = dict(max_iters, batch_size (GLOBAL batch, split over ranks), num_workers=2,
                     log_interval=10, ckpt_interval=500, seed=0, device='auto', channels_last=False,
                     sync_bn=False, find_unused_parameters=False)
    optim_wrapper = dict(type='OptimWrapper' | 'AmpOptimWrapper', optimizer=dict(...), clip_grad=...)
    paramwise_cfg = dict(custom_keys=...)   # the model's lr multipliers: top level, in the model base config
    param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0, begin=0, end=max_iters, by_epoch=False), ...]

Files in ``work_dir``: ``latest.pth`` (model + optimizer + schedulers + iteration + RNG; written atomically
every ``ckpt_interval`` iterations and at the end), ``final.pth`` (``{'state_dict', 'meta'}``),
``train.log``, ``scalars.jsonl`` (one line per log: the last iteration's losses, ``loss_mean`` = the mean total
loss since the previous log over all ranks, lr, images/s). ``train(resume=True)`` continues from ``latest.pth``
and gives the same final weights as an uninterrupted run (the data order and augmentations are a function of the
iteration).
Only rank 0 writes.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import torch
from mmengine import dist
from mmengine.optim import build_optim_wrapper
from mmengine.registry import OPTIM_WRAPPERS, OPTIMIZERS, PARAM_SCHEDULERS
from torch import nn
from tqdm import tqdm

from wsss.engine.config import dump_config
from wsss.engine.config_keys import Built, Keys, ListOf, MapOf, Open, Spec, accepted_args
from wsss.engine.dist import pick_device, setup_distributed
from wsss.engine.logging import get_logger, quiet_current_logger
from wsss.engine.resume_check import RUN_KEYS, check_same_run
from wsss.engine.sampler import IterBatchSampler
from wsss.registry import CONFIG_SECTIONS
from wsss.utils.checkpoint import load_checkpoint_file, load_state_dict_checked, save_checkpoint_atomic

#: the keys of ``train_cfg`` the trainer (and the stages' ``set_seed``) read; the config-key check refuses others
TRAIN_CFG_KEYS = ('max_iters', 'batch_size', 'num_workers', 'log_interval', 'ckpt_interval', 'seed', 'device',
                  'channels_last', 'sync_bn', 'find_unused_parameters')
#: the ``paramwise_cfg`` keys mmengine's DefaultOptimWrapperConstructor reads (mmengine 0.10, default_constructor.py)
PARAMWISE_KEYS = ('custom_keys', 'bias_lr_mult', 'bias_decay_mult', 'norm_decay_mult', 'dwconv_decay_mult',
                  'flat_decay_mult', 'bypass_duplicate', 'dcn_offset_lr_mult')


def channels_last(cfg) -> bool:
    """Whether the config's model runs in NHWC memory format (``train_cfg.channels_last``; on CPU too: 1.7x for
    Lite0): in training and in the stages that run the trained model (pseudo-labels, coverage, evaluation)."""
    train_cfg = cfg.get('train_cfg', None) or {}
    return bool(train_cfg.get('channels_last', False))


class _ClipGrad(Spec):
    """``optim_wrapper.clip_grad``: ``type`` ('norm' | 'value') plus the arguments of torch's
    ``clip_grad_norm_`` / ``clip_grad_value_`` (as mmengine's ``OptimWrapper`` calls them)."""

    def check(self, value, path, problems) -> None:
        if not isinstance(value, dict):
            return
        fn = torch.nn.utils.clip_grad_value_ if value.get('type', 'norm') == 'value' else torch.nn.utils.clip_grad_norm_
        Keys(set(accepted_args(fn)[0]) - {'parameters'} | {'type'}).check(value, path, problems)


@CONFIG_SECTIONS.register_module()
def trainer_sections(cfg) -> dict:
    """``train_cfg`` (:data:`TRAIN_CFG_KEYS`), ``optim_wrapper`` / ``param_scheduler`` (what mmengine builds them
    from) and the model's lr multipliers ``paramwise_cfg`` (what ``DefaultOptimWrapperConstructor`` reads; each
    ``custom_keys`` entry: ``lr_mult``, ``decay_mult`` or a parameter-group option of the optimizer)."""
    wrapper = cfg.get('optim_wrapper', None) or {}
    opt_type = (wrapper.get('optimizer') or {}).get('type')
    optimizer = OPTIMIZERS.get(opt_type) if isinstance(opt_type, str) else None
    group_keys = set(accepted_args(optimizer)[0]) - {'params'} if optimizer is not None else set()
    if wrapper.get('constructor', 'DefaultOptimWrapperConstructor') == 'DefaultOptimWrapperConstructor':
        paramwise: Spec = Keys(PARAMWISE_KEYS, custom_keys=MapOf(Keys({'lr_mult', 'decay_mult'} | group_keys)))
    else:
        paramwise = Open('a custom optim_wrapper.constructor reads its own paramwise_cfg keys')
    return {'train_cfg': Keys(TRAIN_CFG_KEYS),
            'optim_wrapper': Built(OPTIM_WRAPPERS, extra=('constructor', 'paramwise_cfg'),
                                   children={'optimizer': Built(OPTIMIZERS), 'clip_grad': _ClipGrad(),
                                             'paramwise_cfg': paramwise}),
            'param_scheduler': ListOf(Built(PARAM_SCHEDULERS)),
            'paramwise_cfg': paramwise}


def optim_wrapper_cfg(cfg) -> dict:
    """``cfg.optim_wrapper`` (from the schedule) with the model's lr multipliers (``cfg.paramwise_cfg``, set by the
    model base config) added, so a leaf config never has to copy them across (mmengine forbids the same top-level
    key in two sibling base files, so they cannot live in both). Giving multipliers in both places is an error."""
    wrapper = dict(cfg.optim_wrapper)
    model_mults = cfg.get('paramwise_cfg', None)
    if model_mults is not None:
        if wrapper.get('paramwise_cfg') is not None:
            raise ValueError('lr multipliers are set twice: top-level paramwise_cfg (the model base) and '
                             'optim_wrapper.paramwise_cfg; keep them in paramwise_cfg only')
        wrapper['paramwise_cfg'] = dict(model_mults)
    return wrapper


def fit_schedulers(schedulers, max_iters: int) -> list[dict]:
    """Scheduler configs fitted to ``max_iters``: a scheduler without ``end`` runs to ``max_iters`` (so overriding
    max_iters keeps the poly schedule), ends are clipped to it, and one that would begin at or after it (a
    warm-up longer than a short smoke run) is dropped; ``by_epoch`` defaults to False."""
    fitted = []
    for s in schedulers:
        s = {'by_epoch': False, **dict(s)}
        if int(s.get('begin', 0)) >= max_iters:
            continue
        s['end'] = min(int(s.get('end', max_iters)), max_iters)
        fitted.append(s)
    return fitted


class _LossForward(nn.Module):
    """Lets DDP wrap any model whose training entry point is ``loss(batch)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: dict) -> dict:
        return self.model.loss(batch)


def collate(batch: Sequence[dict]) -> dict:
    """Stack tensors; keep everything else (``meta`` dicts, raw ``image`` arrays) as lists."""
    out = {}
    for k in batch[0]:
        vals = [b[k] for b in batch]
        out[k] = torch.stack(vals) if isinstance(vals[0], torch.Tensor) else vals
    return out


def move_to(batch: dict, device: torch.device, channels_last: bool = False) -> dict:
    out = {}
    for k, v in batch.items():
        if isinstance(v, torch.Tensor):
            v = v.to(device, non_blocking=True)
            if channels_last and k == 'img':
                v = v.contiguous(memory_format=torch.channels_last)
        out[k] = v
    return out


def sum_losses(losses: dict) -> torch.Tensor:
    terms = [v for k, v in losses.items() if k.startswith('loss')]
    if not terms:
        raise ValueError(f'model.loss() returned no loss_* entry (keys: {list(losses)})')
    return sum(terms)


class IterTrainer:
    def __init__(self, model: nn.Module, dataset, cfg, work_dir: str | Path, meta: Optional[dict] = None,
                 logger_name: str = 'train'):
        self.cfg = cfg
        self.tcfg = dict(cfg.train_cfg)
        self.rank, self.world = setup_distributed()
        self.device = pick_device(self.tcfg.get('device', 'auto'))
        if self.device.type == 'cuda':
            torch.cuda.set_device(self.device)
        self.work_dir = Path(work_dir)
        self.meta = dict(meta or {})
        self.logger = get_logger(self.work_dir, logger_name) if self.rank == 0 else None
        seed = int(self.tcfg.get('seed', 0))
        torch.manual_seed(seed + self.rank)  # per-rank seed for dropout etc.; data order is seed-only
        self.seed = seed
        if self.tcfg.get('sync_bn', False) and self.world > 1:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.model = model.to(self.device)
        self.channels_last = channels_last(cfg)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.dataset = dataset
        # mmengine warns once per frozen parameter (81 lines for the CAM's frozen Lite0 levels): one line instead
        with quiet_current_logger('is skipped since its requires_grad=False') as frozen:
            self.optim_wrapper = build_optim_wrapper(self.model, optim_wrapper_cfg(cfg))
        if frozen.dropped:
            self.log(f'{frozen.dropped} frozen parameters (requires_grad=False) are left out of the optimiser')
        self.schedulers = [PARAM_SCHEDULERS.build(s, default_args=dict(optimizer=self.optim_wrapper))
                           for s in fit_schedulers(cfg.get('param_scheduler', []), int(self.tcfg['max_iters']))]
        runner = _LossForward(self.model)
        if self.world > 1:
            ddp_kw = {'device_ids': [self.device.index]} if self.device.type == 'cuda' else {}
            runner = nn.parallel.DistributedDataParallel(
                runner, find_unused_parameters=bool(self.tcfg.get('find_unused_parameters', False)), **ddp_kw)
        self.runner = runner

    def log(self, msg: str) -> None:
        if self.logger is not None:
            self.logger.info(msg)

    # -- checkpoints -------------------------------------------------------------------------------
    def _state(self, it: int) -> dict:
        return {'state_dict': self.model.state_dict(), 'optimizer': self.optim_wrapper.state_dict(),
                'schedulers': [s.state_dict() for s in self.schedulers], 'iter': it,
                'torch_rng': torch.get_rng_state(), 'meta': self.meta}

    def save(self, it: int, final: bool = False) -> None:
        if self.rank != 0:
            return
        save_checkpoint_atomic(self._state(it), self.work_dir / 'latest.pth')
        if final:
            save_checkpoint_atomic({'state_dict': self.model.state_dict(), 'meta': self.meta},
                                   self.work_dir / 'final.pth')

    def load(self, path: Path) -> int:
        ckpt = load_checkpoint_file(path, map_location='cpu')
        load_state_dict_checked(self.model, ckpt['state_dict'], path)  # a mismatch names the file and the keys
        self.optim_wrapper.load_state_dict(ckpt['optimizer'])
        for s, sd in zip(self.schedulers, ckpt['schedulers']):
            s.load_state_dict(sd)
        if self.rank == 0:
            torch.set_rng_state(ckpt['torch_rng'])
        return int(ckpt['iter'])

    # -- loop --------------------------------------------------------------------------------------
    def train(self, resume: bool = False, stop_at: Optional[int] = None) -> dict[str, Any]:
        """Train to ``max_iters``; ``stop_at`` pauses early (``latest.pth`` written) for a later ``resume``."""
        max_iters = int(self.tcfg['max_iters'])
        start = 0
        latest = self.work_dir / 'latest.pth'
        if resume and latest.is_file():
            start = self.load(latest)
            self.log(f'resumed from {latest} at iteration {start}')
        elif resume:
            self.log(f'--resume given but {latest} does not exist: starting from scratch')
        if start >= max_iters:
            self.log(f'already trained ({start}/{max_iters} iterations)')
            if self.rank == 0 and not (self.work_dir / 'final.pth').is_file():
                self.save(start, final=True)
            return {}
        sampler = IterBatchSampler(len(self.dataset), int(self.tcfg['batch_size']), max_iters, self.seed,
                                   self.rank, self.world, start_iter=start)
        nw = int(self.tcfg.get('num_workers', 2))
        loader = torch.utils.data.DataLoader(self.dataset, batch_sampler=sampler, num_workers=nw,
                                             collate_fn=collate, pin_memory=self.device.type == 'cuda',
                                             persistent_workers=False,
                                             # own generator: creating the iterator must not consume the
                                             # global RNG (dropout), or a resumed run would diverge
                                             generator=torch.Generator().manual_seed(self.seed + start))
        log_interval = int(self.tcfg.get('log_interval', 10))
        ckpt_interval = int(self.tcfg.get('ckpt_interval', 500))
        self.model.train()
        self.log(f'training {type(self.model).__name__} for {max_iters} iterations (from {start}), global batch '
                 f'{sampler.B} on {self.world} process(es), device {self.device}, {len(self.dataset)} samples')
        last: dict[str, float] = {}
        t0, n_img = time.perf_counter(), 0
        window_sum, window_n = 0.0, 0  # total loss since the last log (on the device: no sync per iteration)
        bar = tqdm(total=max_iters, initial=start, desc='train', disable=self.rank != 0, mininterval=2,
                   dynamic_ncols=True, leave=False)
        scalars = open(self.work_dir / 'scalars.jsonl', 'a') if self.rank == 0 else None
        try:
            for it, batch in enumerate(loader, start=start):
                batch = move_to(batch, self.device, self.channels_last)
                with self.optim_wrapper.optim_context(self.runner):
                    losses = self.runner(batch)
                loss = sum_losses(losses)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f'loss is {loss.item()} at iteration {it + 1}: '
                                             f'{ {k: float(v) for k, v in losses.items()} }')
                self.optim_wrapper.update_params(loss)
                window_sum, window_n = window_sum + loss.detach().double(), window_n + 1
                for s in self.schedulers:
                    s.step()
                n_img += batch['img'].shape[0] * self.world
                bar.update(1)
                if (it + 1) % log_interval == 0 or it + 1 == max_iters:
                    dt = time.perf_counter() - t0
                    last = {k: float(v.detach()) if isinstance(v, torch.Tensor) else float(v)
                            for k, v in losses.items()}
                    mean = window_sum / window_n  # logged as loss_mean, averaged over the ranks
                    dist.all_reduce(mean, op='mean')  # no-op in one process
                    window_sum, window_n = 0.0, 0
                    last.update(loss=float(loss.detach()), loss_mean=float(mean),
                                lr=self.optim_wrapper.get_lr()['lr'][0], img_per_s=n_img / max(dt, 1e-9))
                    if self.device.type == 'cuda':
                        last['max_mem_mb'] = torch.cuda.max_memory_allocated(self.device) / 2**20
                    eta = (max_iters - it - 1) * dt / max(1, it + 1 - start)
                    self.log(f'iter {it + 1}/{max_iters} ' + ' '.join(
                        f'{k}={v:.4g}' for k, v in last.items()) + f' eta={eta / 60:.1f}min')
                    bar.set_postfix(loss=f"{last['loss']:.3f}")
                    if scalars is not None:
                        scalars.write(json.dumps({'iter': it + 1, **last}) + '\n')
                        scalars.flush()
                if (it + 1) % ckpt_interval == 0 and it + 1 < max_iters:
                    self.save(it + 1)
                if stop_at is not None and it + 1 >= stop_at and it + 1 < max_iters:
                    self.save(it + 1)
                    self.log(f'stopped at iteration {it + 1} (resume with --resume)')
                    return last
        finally:
            bar.close()
            if scalars is not None:
                scalars.close()
        self.save(max_iters, final=True)
        self.log(f'finished; weights in {self.work_dir / "final.pth"}')
        if dist.is_distributed():
            dist.barrier()
        return last


def trainer_in(work_dir: str | Path, model: nn.Module, dataset, cfg, meta: dict, resume: bool = False,
               run_keys: Sequence[str] = RUN_KEYS) -> IterTrainer:
    """A training stage's start: ``work_dir`` created with the resolved ``config.py`` in it, and the trainer.
    With ``resume``, a run saved there under other ``run_keys`` is refused first (:mod:`.resume_check`)."""
    work_dir = Path(work_dir)
    if resume:
        check_same_run(cfg, work_dir, run_keys)
    work_dir.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, work_dir)
    return IterTrainer(model, dataset, cfg, work_dir, meta=meta)
