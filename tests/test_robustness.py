"""The robustness driver (tools/robustness.py): generator-constant overrides, the claims' arithmetic on
hand-made rows, the loss-spike check, and one end-to-end run of two tiny variants (then a rerun that changes
nothing, and a refused variant redefinition)."""
import json
import math

import pandas as pd
import pytest
from mmengine.config import Config

from test_saliency_ablation import ROOT, TINY_CAM, TINY_SEG
from wsss.datasets.synthetic import generate, params
from wsss.drivers.robustness import (CLAIMS, Claim, Variant, claim_summary, claim_values, claims_report,
                                     loss_ratios, loss_spikes, run_robustness, warmup_iters)
from wsss.drivers.workdirs import repo_config
from wsss.engine.records import read_record


def test_params_overridden_restores_and_reaches_meta(tmp_path):
    before = params.P_FOREIGN_CONTEXT, params.PART_FRACTION
    with params.overridden(P_FOREIGN_CONTEXT=0.03, PART_FRACTION=[0.05, 0.07]):
        assert params.PART_FRACTION == (0.05, 0.07)
        generate(tmp_path, num_train=1, num_val=0, num_sod=0, size=48, seed=1)
    assert (params.P_FOREIGN_CONTEXT, params.PART_FRACTION) == before
    meta = json.loads((tmp_path / 'meta.json').read_text())['params']
    assert meta['p_foreign_context'] == 0.03 and meta['part_fraction'] == [0.05, 0.07]
    with pytest.raises(KeyError, match=r"no generator constant \['P_FOREIGN_CONTEX'\]"):
        with params.overridden(P_FOREIGN_CONTEX=0.1):
            pass
    assert params.P_FOREIGN_CONTEXT == before[0]


def rows(cam_seed=20.0, eps_seed=30.0, cam_ctx=0.6, eps_ctx=0.2, cam_body=0.3, seenet_body=0.5,
         eps_good=50.0, eps_poor=45.0, seenet=48.0, es=52.0, with_seenet=True) -> pd.DataFrame:
    """One variant's ablation table as ablation.csv holds it (seed / CRF mIoU, region rates)."""
    r = [dict(method='cam', saliency='—', seed_mIoU=cam_seed, nocrf_mIoU=0, crf_mIoU=cam_seed,
              context_fg_rate=cam_ctx, body_recall=cam_body),
         dict(method='eps', saliency='saliency/good', seed_mIoU=eps_seed, nocrf_mIoU=0, crf_mIoU=eps_good,
              context_fg_rate=eps_ctx, body_recall=0.2),
         dict(method='eps', saliency='saliency/poor', seed_mIoU=eps_seed - 2, nocrf_mIoU=0, crf_mIoU=eps_poor,
              context_fg_rate=eps_ctx, body_recall=0.2),
         dict(method='eps_seenet', saliency='saliency/good', seed_mIoU=0, nocrf_mIoU=es, crf_mIoU=math.nan,
              context_fg_rate=0.1, body_recall=0.5)]
    if with_seenet:
        r += [dict(method='seenet', saliency=s, seed_mIoU=0, nocrf_mIoU=0, crf_mIoU=seenet, context_fg_rate=0.7,
                   body_recall=seenet_body) for s in ('saliency/good', 'saliency/poor')]
    return pd.DataFrame(r)


def test_claims_on_hand_made_rows():
    by = {c.name: c for c in CLAIMS}
    tables = {'a': rows(), 'b': rows(eps_seed=24.0, eps_ctx=0.4, seenet_body=0.35, eps_poor=49.5, es=47.5)}
    eps = claim_values(by['EPS beats plain CAM'], tables)
    assert eps == {'a': 10.0, 'b': 4.0}
    s = claim_summary(by['EPS beats plain CAM'], eps)
    assert (s['mean'], s['worst'], s['worst_variant'], s['holds']) == (7.0, 4.0, 'b', False)  # 4 < 5 on b
    leak = claim_values(by['EPS removes the context leak'], tables)
    assert leak['a'] == pytest.approx(1 / 3) and leak['b'] == pytest.approx(2 / 3)
    s = claim_summary(by['EPS removes the context leak'], leak)      # an upper bound: the worst is the highest
    assert s['worst_variant'] == 'b' and s['holds'] is False
    assert claim_values(by['SeeNet widens the maps to the bodies'], tables) == pytest.approx({'a': 20.0, 'b': 5.0})
    poor = claim_values(by['EPS needs good saliency'], tables)
    assert poor == {'a': 5.0, 'b': 0.5} and claim_summary(by['EPS needs good saliency'], poor)['holds'] is False  # 2.75
    # EPS + SeeNet's final labels are its no-CRF ones here (no CRF run): 52 - max(50, 48), 47.5 - max(50, 48)
    best = claim_values(by['EPS + SeeNet is best'], tables)
    assert best == {'a': 2.0, 'b': -2.5}
    assert claim_summary(by['EPS + SeeNet is best'], best)['holds'] is False   # -2.5 < -1 on b
    assert claim_summary(by['EPS + SeeNet is best'], {'a': 2.0, 'b': -0.5})['holds'] is True
    # a method not run: NaN for that claim, which is then not decided
    partial = claim_values(by['SeeNet widens the maps to the bodies'], {'a': rows(), 'c': rows(with_seenet=False)})
    assert math.isnan(partial['c']) and claim_summary(by['SeeNet widens the maps to the bodies'],
                                                      partial)['holds'] is None
    md, numbers = claims_report(tables)
    assert md.splitlines()[2].startswith('| EPS beats plain CAM | every variant ≥ 5 | 7.00 | 4.00 | b | **no** |')
    assert '| **worst** | 4.00 (b) |' in md and list(numbers['variant']) == ['a', 'b']
    assert Claim('x', 'q', lambda r: 0.0, every=1.0, mean=0.5).bounds() == 'every variant ≥ 1, mean ≥ 0.5'


def test_loss_spikes_and_warmup(tmp_path):
    path = tmp_path / 'scalars.jsonl'
    losses = [9.0, 3.0, 2.0, 2.0, 2.1, 5.0, 2.0, 1.9]          # 9.0 is in the warm-up; 5.0 > 2 x mean(3, 2, 2, 2.1)
    path.write_text(''.join(json.dumps({'iter': 25 * (i + 1), 'loss': v}) + '\n' for i, v in enumerate(losses)))
    spikes = loss_spikes(path, warmup_iters=25)
    assert [s['iter'] for s in spikes] == [150] and spikes[0]['running_mean'] == pytest.approx(2.275)
    assert loss_spikes(path, warmup_iters=25, window=1) == [dict(iter=150, loss=5.0, running_mean=2.1)]
    # the margin: each logged value after the warm-up over its running mean (the report shows the largest)
    ratios = loss_ratios(path, warmup_iters=25, window=1)
    assert [r['iter'] for r in ratios] == [50, 75, 100, 125, 150, 175, 200]
    assert [r['ratio'] for r in ratios] == pytest.approx([3 / 9, 2 / 3, 1.0, 1.05, 5 / 2.1, 0.4, 0.95])
    assert loss_spikes(path, warmup_iters=0) == []               # counted in, 9.0 lifts the reference to 3.62
    # the first point after the warm-up is compared with the last warm-up value (3.0 > 2 x 1.2)
    path.write_text(''.join(json.dumps({'iter': 25 * (i + 1), 'loss': v}) + '\n'
                            for i, v in enumerate([1.2, 3.0, 1.5])))
    assert loss_spikes(path, warmup_iters=25) == [dict(iter=50, loss=3.0, running_mean=1.2)]
    # the interval mean is used where the trainer logged it (the last batch's loss is noisy)
    path.write_text(''.join(json.dumps({'iter': 25 * (i + 1), 'loss': v, 'loss_mean': 1.0}) + '\n'
                            for i, v in enumerate([1.2, 3.0, 1.5])))
    assert loss_spikes(path, warmup_iters=25) == []
    cfg = repo_config(ROOT, 'configs/seg/deeplabv2_lite0_synthetic.py', tmp_path)
    assert warmup_iters(cfg) == 25                               # its LinearLR warm-up ends at 25


@pytest.mark.slow
def test_two_tiny_variants_end_to_end(tmp_path):
    import support_models  # noqa: F401  (registers TinyBackbone)
    defs = {'plain': Variant(seed=1, size=64, num_train=8, num_val=4),
            'rare_context': Variant(seed=2, size=64, num_train=8, num_val=4, gen=dict(P_FOREIGN_CONTEXT=0.03))}
    kw = dict(methods=('cam', 'eps'), seg_config='configs/seg/deeplabv2_lite0_synthetic.py', repo=ROOT,
              num_workers=1, options={'cam': TINY_CAM, 'seg': TINY_SEG}, definitions=defs)
    text = run_robustness(tmp_path / 'work', **kw)
    work = tmp_path / 'work'
    meta = json.loads((work / 'rare_context' / 'data' / 'meta.json').read_text())
    assert meta['params']['p_foreign_context'] == 0.03 and meta['args']['size'] == 64
    assert params.P_FOREIGN_CONTEXT != 0.03                       # restored after generating
    # per variant: the ablation rows, the segmenter on the ground truth and on the best pseudo-labels
    for v in defs:
        table = pd.read_csv(work / v / 'ablation' / 'ablation.csv')
        assert sorted(zip(table['method'], table['saliency'])) == [
            ('cam', '—'), ('eps', 'saliency/good'), ('eps', 'saliency/poor')]
        assert (work / v / 'seg_gt' / 'final.pth').is_file() and (work / v / 'seg_pseudo' / 'final.pth').is_file()
    numbers = pd.read_csv(work / 'robustness.csv').set_index('variant')
    cam = pd.read_csv(work / 'plain' / 'ablation' / 'ablation.csv').set_index(['method', 'saliency'])
    assert numbers.loc['plain', 'EPS beats plain CAM'] == pytest.approx(
        cam.loc[('eps', 'saliency/good'), 'seed_mIoU'] - cam.loc[('cam', '—'), 'seed_mIoU'])
    assert math.isnan(numbers.loc['plain', 'SeeNet widens the maps to the bodies'])
    assert '| SeeNet widens the maps to the bodies | every variant ≥ 10 | – | – | – | not measured on every ' \
           'variant |' in text
    stamp = (work / 'plain' / 'ablation' / 'cam__cam' / 'cam' / 'final.pth').stat().st_mtime_ns
    assert run_robustness(work, **kw) == text                     # finished steps are skipped
    assert (work / 'plain' / 'ablation' / 'cam__cam' / 'cam' / 'final.pth').stat().st_mtime_ns == stamp
    with pytest.raises(RuntimeError, match='was made for another variant'):
        run_robustness(work, **dict(kw, definitions={'plain': Variant(seed=9, size=64, num_train=8, num_val=4)}))


@pytest.mark.slow
def test_segmenter_ddp_column(tmp_path, monkeypatch):
    """--seg-ddp 2: the segmenter also trains on the ground truth through torchrun with 2 processes; its mIoU and
    loss spikes get their own columns. --cam-configs: the CAMs train with another recipe's configs."""
    import support_models  # noqa: F401  (registers TinyBackbone here)
    monkeypatch.setenv('PYTHONPATH', str(ROOT / 'tests'))  # support_models for the launched processes
    seg = dict(TINY_SEG, custom_imports=dict(imports=['support_models'], allow_failed_imports=False))
    text = run_robustness(tmp_path / 'work', methods=('cam',), seg_config='configs/seg/deeplabv2_lite0_synthetic.py',
                          repo=ROOT, num_workers=1, options={'cam': TINY_CAM, 'seg': seg}, seg_ddp=2,
                          definitions={'v': Variant(seed=1, size=64, num_train=8, num_val=4)},
                          cam_configs='configs/cam/sgd/{method}_lite0_synthetic.py')
    cam_cfg = Config.fromfile(tmp_path / 'work' / 'v' / 'ablation' / 'cam__cam' / 'cam' / 'config.py')
    assert cam_cfg.optim_wrapper.optimizer.type == 'SGD'
    run = tmp_path / 'work' / 'v' / 'seg_gt_ddp2'
    assert '2 process(es)' in (run / 'train.log').read_text() and (run / 'final.pth').is_file()
    assert 'iter 2/2' in (run / 'torchrun.log').read_text()  # the ranks' output, kept
    header = next(line for line in text.splitlines() if line.startswith('| variant'))
    assert 'seg on GT, DDP (val)' in header and '(GT / GT DDP / pseudo)' in header
    row = next(line for line in text.splitlines() if line.startswith('| v |'))
    ddp_miou = json.loads((run / 'metrics.json').read_text())
    assert row.split(' | ')[4] != '–' and len(row.split(' | ')[-1].split(' / ')) == 3, (row, ddp_miou)


@pytest.mark.slow
def test_segmenter_alone_on_the_ground_truth(tmp_path):
    """No methods: no CAM runs, the segmenter trains on each variant's ground truth only; the report says the
    claims were not measured instead of a table of blanks. Through the CLI (--methods none)."""
    import support_models  # noqa: F401  (registers TinyBackbone)
    from tools_cli import load_tool
    text = run_robustness(tmp_path / 'work', methods=(), seg_config='configs/seg/deeplabv2_lite0_synthetic.py',
                          repo=ROOT, num_workers=1, options={'seg': TINY_SEG},
                          definitions={'v': Variant(seed=1, size=64, num_train=8, num_val=4)})
    v = tmp_path / 'work' / 'v'
    assert (v / 'seg_gt' / 'final.pth').is_file()
    assert not (v / 'ablation').exists() and not (v / 'seg_pseudo').exists()
    row = next(line for line in text.splitlines() if line.startswith('| v |'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    miou = read_record(v / 'seg_gt').section('val_ss')['mIoU']
    assert cells[2] == (f'{miou:.2f}' if miou < 10 else f'{miou:.1f}'), (cells, miou)
    assert cells[3] == '–' and cells[4] == '0 / –'               # no pseudo-label row; no spike on GT
    gt_ratio, pseudo_ratio = cells[5].split(' / ')               # the highest loss over its running mean
    assert 0 < float(gt_ratio) < 2 and pseudo_ratio == '–'
    assert 'No CAM runs' in text and '### EPS beats plain CAM' not in text
    with pytest.raises(SystemExit):                               # nothing to run
        load_tool('robustness').main(['--work-dir', str(tmp_path / 'w2'), '--methods', 'none'])


def test_a_classifier_trained_without_saliency_serves_every_source(tmp_path):
    """SeeNet trains once and is labelled with each saliency source: resuming it under the other source's
    saliency_dir is the same run; EPS, trained on the maps, gets one classifier per source."""
    import support_models  # noqa: F401  (registers TinyBackbone)
    from wsss.datasets.synthetic import generate
    from wsss.drivers.ablation import run_ablation
    data = tmp_path / 'voc'
    generate(str(data), num_train=8, num_val=4, size=64, seed=3)
    run_ablation(tmp_path / 'work', str(data), methods=('seenet', 'eps'), repo=ROOT, num_workers=1,
                 options=TINY_CAM)
    work = tmp_path / 'work'
    assert sorted(p.parent.parent.name for p in work.glob('*/cam/final.pth')) == [
        'eps__saliency_good', 'eps__saliency_poor', 'seenet__cam']
    assert len(list((work / 'seenet__saliency_poor' / 'pseudo').glob('crf/*.png'))) == 8
