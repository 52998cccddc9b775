"""2-process DDP on CPU (gloo), launched with torchrun as users launch it, equals 1 process with the same
global batch; only rank 0 writes."""
import json
import os
import subprocess
from pathlib import Path

import pytest
import torch

from wsss.engine.dist import torchrun_command

ROOT = Path(__file__).resolve().parents[1]

CONFIG = '''
custom_imports = dict(imports=['support_models'], allow_failed_imports=False)
data_root = {data_root!r}
model = dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'), num_classes=20, head=dict(type='CAMHead'))
train_dataset = dict(type='VOCDataset', split='train', transforms=dict(crop_size=24, scale_range=(0.8, 1.2)))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0)]
train_cfg = dict(max_iters=4, batch_size=4, num_workers=0, log_interval=1, ckpt_interval=100, seed=1,
                 device='cpu')
'''


def _run(nproc, cfg, work_dir, port):
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT / 'tests'), os.environ.get('PYTHONPATH', '')]),
           'OMP_NUM_THREADS': '1'}
    cmd = torchrun_command(nproc, ROOT / 'tools' / 'train_cam.py', cfg, '--work-dir', work_dir, port=port)
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]


@pytest.mark.slow
def test_two_process_ddp_matches_one_process(tmp_path, tiny_voc):
    cfg = tmp_path / 'tiny_cam.py'
    cfg.write_text(CONFIG.format(data_root=str(tiny_voc)))
    _run(1, cfg, tmp_path / 'one', 29511)
    _run(2, cfg, tmp_path / 'two', 29512)
    a = torch.load(tmp_path / 'one' / 'final.pth', weights_only=True)['state_dict']
    b = torch.load(tmp_path / 'two' / 'final.pth', weights_only=True)['state_dict']
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=k)
    # loss_mean is averaged over the ranks: the mean of the two half-batch losses = the full batch's loss
    means = [[json.loads(x)['loss_mean'] for x in (tmp_path / d / 'scalars.jsonl').read_text().splitlines()]
             for d in ('one', 'two')]
    assert len(means[0]) == 4 and means[0] == pytest.approx(means[1], rel=1e-4)
    log = (tmp_path / 'two' / 'train.log').read_text()
    assert '2 process(es)' in log and 'iter 4/4' in log


EXIT_SCRIPT = '''
import sys, time
import torch
from wsss.engine.dist import setup_distributed
rank, world = setup_distributed()
if sys.argv[1] == 'fail' and rank == 1:
    raise ValueError('rank 1 fails')
torch.distributed.all_reduce(torch.ones(1))
if rank == 0:
    time.sleep(1.0)  # still writing results when rank 1 is done
print(f'rank {rank} done', flush=True)
'''


@pytest.mark.parametrize('mode', ['ok', 'fail'])
def test_ranks_leave_together_and_a_failed_rank_does_not_hang(tmp_path, mode):
    """Finished gloo ranks meet in a barrier at exit (one still busy is waited for); a rank that raised leaves at
    once, so torchrun stops the others instead of every rank waiting for a collective."""
    script = tmp_path / 'ranks.py'
    script.write_text(EXIT_SCRIPT)
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}
    cmd = torchrun_command(2, script, mode)
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    out = res.stdout + res.stderr
    if mode == 'ok':
        assert res.returncode == 0, out[-3000:]
        assert 'rank 0 done' in out and 'rank 1 done' in out
    else:
        assert res.returncode != 0 and 'rank 1 fails' in out, out[-3000:]
