"""The input checks run before a stage starts (wsss.datasets.checks, wsss.stages.inputs, tools/check_data.py):
every problem of a broken VOC-format set named by file, all in one run, before anything is trained or written."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import write_tiny_voc
from tools_cli import load_tool
from wsss.datasets.checks import MAX_LISTED, DataCheckError, check_inputs, run_checks, voc_split_inputs
from wsss.datasets.voc import VOCDataset
from wsss.engine.config import load_config
from wsss.stages.inputs import check_stages
from wsss.utils.io import save_label_png

ROOT = Path(__file__).resolve().parents[1]
EPS = str(ROOT / 'configs/cam/eps_lite0_synthetic.py')          # trains with saliency (EPS loss)
SEENET = str(ROOT / 'configs/cam/seenet_lite0_synthetic.py')    # saliency in the pseudo-label rule only
SEG = str(ROOT / 'configs/seg/deeplabv2_lite0_synthetic.py')
IDS = [f'2007_{i:06d}' for i in range(5)]
#: the broken set: what is wrong with which id
BROKEN = {'missing saliency maps': f'saliency/good/{IDS[0]}.png',
          'masks of the wrong size': f'SegmentationClass/{IDS[1]}.png',
          'unreadable images': f'JPEGImages/{IDS[2]}.jpg',
          'ids without image-level labels': f'SegmentationClass/{IDS[3]}.png'}


def break_voc(root: Path) -> Path:
    """A missing saliency map, a wrong-size mask, a truncated JPEG, an id without labels (its mask removed)."""
    (root / BROKEN['missing saliency maps']).unlink()
    save_label_png(root / BROKEN['masks of the wrong size'], np.zeros((20, 30), np.uint8))
    jpg = root / BROKEN['unreadable images']
    jpg.write_bytes(jpg.read_bytes()[:len(jpg.read_bytes()) // 2])
    (root / BROKEN['ids without image-level labels']).unlink()
    return root


@pytest.fixture
def broken_voc(tmp_path) -> Path:
    return break_voc(write_tiny_voc(tmp_path / 'VOC2012', n_train=5))


def problems_of(text: str) -> dict[str, list[str]]:
    """``{kind: [listed items]}`` of a printed report (the block after ``problems:``)."""
    out, kind, inside = {}, None, False
    for line in text.splitlines():
        if line == 'problems:':
            inside = True
        elif inside and line.startswith('    '):
            out[kind].append(line.strip())
        elif inside and line.startswith('  '):
            kind = line.strip().rsplit(':', 1)[0]
            out[kind] = []
        elif inside:
            break
    return out


def assert_all_broken_files_listed(text: str) -> None:
    found = problems_of(text)
    for kind, rel in BROKEN.items():
        assert kind in found, f'{kind} missing from the report:\n{text}'
        assert len(found[kind]) == 1 and rel in found[kind][0], (kind, found[kind])
    assert not any(IDS[4] in it for items in found.values() for it in items)  # the intact id is not reported


def test_the_check_tool_lists_every_problem_by_file_in_one_run(broken_voc, capsys):
    rc = load_tool('check_data').main([EPS, '--stage', 'cam', '--cfg-options', f'data_root={broken_voc}'])
    out = capsys.readouterr().out
    assert rc == 1
    assert_all_broken_files_listed(out)
    assert 'truncated' in out  # the decoder's reason is given with the file
    assert 'checked 5 images' in out


def test_cam_training_fails_before_training_with_every_problem(broken_voc, tmp_path):
    work = tmp_path / 'work'
    with pytest.raises(DataCheckError) as e:
        load_tool('train_cam').main([EPS, '--work-dir', str(work), '--cfg-options', f'data_root={broken_voc}',
                                     'train_cfg.num_workers=0', 'train_cfg.max_iters=2'])
    assert_all_broken_files_listed(str(e.value))
    assert not work.exists()  # nothing written: no checkpoint, no config, no log
    assert not list(tmp_path.rglob('*.pth'))


def test_no_check_skips_the_checks(broken_voc, tmp_path):
    """--no-check (check_data=False): the stage starts, and the corrupt image fails in the loader, named."""
    work = tmp_path / 'work'
    with pytest.raises(Exception) as e:
        load_tool('train_cam').main([EPS, '--work-dir', str(work), '--no-check', '--cfg-options',
                                     f'data_root={broken_voc}', 'train_cfg.num_workers=0', 'train_cfg.max_iters=1',
                                     'train_cfg.batch_size=5'])
    assert not isinstance(e.value, DataCheckError)  # the data set's own first error instead
    cfg = load_config(EPS, {'data_root': str(broken_voc), 'check_data': False})
    assert run_checks(cfg, [voc_split_inputs(cfg, 'train_dataset', 'x')], 'train_cam') is None


def test_pseudo_labels_check_saliency_only_for_a_saliency_rule(broken_voc, tmp_path):
    for config, asks_saliency in ((SEENET, True), (EPS, False)):
        report = check_stages(load_config(config, {'data_root': str(broken_voc)}), 'pseudo')
        assert ('missing saliency maps' in report.problems) == asks_saliency, config
        assert 'unreadable images' in report.problems and 'ids without image-level labels' in report.problems
    # the stage itself refuses before reading the checkpoint or writing a file
    from wsss.stages.pseudo import make
    with pytest.raises(DataCheckError):
        make.run(load_config(SEENET, {'data_root': str(broken_voc)}), tmp_path / 'absent.pth', tmp_path / 'pseudo')
    assert not (tmp_path / 'pseudo').exists()


def test_segmenter_checks_training_labels_and_the_evaluation_split(tmp_path):
    root = write_tiny_voc(tmp_path / 'VOC2012', n_train=4, n_val=3)
    labels = tmp_path / 'labels'
    labels.mkdir()
    for i in IDS[:4]:
        (labels / f'{i}.png').write_bytes((root / 'SegmentationClass' / f'{i}.png').read_bytes())
    (labels / f'{IDS[0]}.png').unlink()                                           # missing
    save_label_png(labels / f'{IDS[1]}.png', np.full((40, 56), 42, np.uint8))    # values outside 0..20/255
    save_label_png(labels / f'{IDS[2]}.png', np.zeros((10, 10), np.uint8))       # wrong size
    save_label_png(root / 'SegmentationClass' / '2008_000001.png', np.zeros((5, 5), np.uint8))  # val GT size
    cfg = load_config(SEG, {'data_root': str(root), 'label_dir': str(labels)})
    report = check_stages(cfg, 'all')
    assert [len(report.problems[k]) for k in ('missing training labels', 'invalid training labels',
                                              'training labels of the wrong size', 'masks of the wrong size')] == \
        [1, 1, 1, 1]
    assert '2008_000001.png' in report.problems['masks of the wrong size'][0]
    from wsss.stages.seg import evaluate, train
    with pytest.raises(DataCheckError, match='training labels of the wrong size'):
        train.run(cfg, tmp_path / 'seg')
    assert not (tmp_path / 'seg').exists()
    with pytest.raises(DataCheckError, match='masks of the wrong size'):  # before the checkpoint is read
        evaluate.run(cfg, tmp_path / 'absent.pth', out_dir=tmp_path / 'ev')
    assert not (tmp_path / 'ev').exists()


def test_test_split_without_ground_truth_is_not_an_evaluation_problem(tmp_path):
    root = write_tiny_voc(tmp_path / 'VOC2012', n_train=2, n_val=2)
    (root / 'SegmentationClass' / '2008_000000.png').unlink()  # ground truth incomplete: not read (as the stage)
    report = check_stages(load_config(SEG, {'data_root': str(root), 'label_dir': 'SegmentationClass'}), 'seg')
    assert report.ok, report.format()
    assert any('not complete' in s for s in report.inputs)


def test_labels_file_replaces_the_masks(tmp_path):
    root = write_tiny_voc(tmp_path / 'VOC2012', n_train=3)
    labels = tmp_path / 'cls_labels.json'
    labels.write_text(json.dumps({IDS[0]: [0], IDS[1]: [3]}))  # IDS[2] has no labels
    for p in (root / 'SegmentationClass').glob('2007_*.png'):
        p.unlink()
    cfg = load_config(EPS, {'data_root': str(root), 'train_dataset.labels_file': str(labels)})
    report = check_stages(cfg, 'cam')
    assert list(report.problems) == ['ids without image-level labels']
    assert report.problems['ids without image-level labels'] == [f'{IDS[2]}: not in the labels file {labels}']


def test_counts_are_complete_and_listings_short(tmp_path):
    n = MAX_LISTED + 5
    root = write_tiny_voc(tmp_path / 'VOC2012', n_train=n, n_val=1, size=(12, 12))
    for p in (root / 'saliency' / 'good').glob('2007_*.png'):
        p.unlink()
    report = check_stages(load_config(EPS, {'data_root': str(root)}), 'cam')
    text = report.format()
    assert report.num_problems == n and f'missing saliency maps: {n}' in text
    assert f'... and {n - MAX_LISTED} more' in text
    # a missing folder is one problem, not one per file
    inp = voc_split_inputs(load_config(EPS, {'data_root': str(root)}), 'train_dataset', 'x',
                           saliency_dir=root / 'saliency' / 'absent')
    assert check_inputs([inp]).problems == {'missing folders': [f'{root / "saliency" / "absent"} (saliency maps)']}


def test_the_image_loader_names_a_corrupt_file(broken_voc):
    ds = VOCDataset(str(broken_voc), 'train', mode='infer', labels_file=None, require_masks=False)
    bad = broken_voc / BROKEN['unreadable images']
    with pytest.raises(ValueError, match=re.escape(str(bad))):
        ds[2]
    # also from a DataLoader worker process
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(ds, [2]), num_workers=1,
                                         collate_fn=lambda b: b)
    with pytest.raises(Exception, match=re.escape(str(bad))):
        next(iter(loader))


def test_a_corrupt_saliency_map_is_named(tiny_voc):
    from wsss.saliency.sources import FolderSaliency
    path = tiny_voc / 'saliency' / 'good' / '2007_000000.png'
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError, match=re.escape(str(path))):
        FolderSaliency(str(tiny_voc), 'saliency/good').load('2007_000000', (40, 56))
    Image.open(tiny_voc / 'JPEGImages' / '2007_000001.jpg').load()  # the others are fine
