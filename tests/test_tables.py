import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from wsss.engine.tables import load_metrics, load_run, make_table, update_metrics_section, write_metrics


def _tool():
    spec = importlib.util.spec_from_file_location('make_table_tool',
                                                  Path(__file__).resolve().parents[1] / 'tools' / 'make_table.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _runs(tmp_path):
    flat = tmp_path / 'eps'
    flat.mkdir()
    (flat / 'metrics.json').write_text(json.dumps(
        {'mIoU': 69.22, 'IoU': {'background': 88.14, 'aeroplane': 80.06, 'bicycle': None},
         'aAcc': 90.5, 'num_images': 1464, 'seed_mIoU': 50.04, 'split': 'train', 'raw': {'mIoU': 0.69}}))
    write_metrics(tmp_path / 'seenet' / 'metrics.json', name='SeeNet', extra={'seed': 0}, sections={
        'pseudo_nocrf': {'mIoU': 61.26, 'IoU': {'background': 85.0, 'aeroplane': 70.44, 'bicycle': 30.0},
                         'extra': {'context_fg_rate': 0.314}},
        'pseudo_crf': {'mIoU': 63.0, 'IoU': {'background': 86.0, 'aeroplane': 72.0, 'bicycle': 31.0}},
    })
    legacy_nested = tmp_path / 'abl'
    legacy_nested.mkdir()
    (legacy_nested / 'metrics.json').write_text(json.dumps(
        {'pseudo_nocrf': {'mIoU': 60.0}, 'pseudo_crf': {'mIoU': 62.5}, 'context_fg_rate': 0.2}))
    return [flat, tmp_path / 'seenet', legacy_nested]


def test_reader_forms(tmp_path):
    flat, seenet, nested = _runs(tmp_path)
    (s,) = load_run(flat)
    assert (s.run, s.section, s.label, s.mIoU) == ('eps', 'main', 'eps', 69.22)
    assert s.scalars == {'aAcc': 90.5, 'num_images': 1464, 'seed_mIoU': 50.04}   # strings / dicts skipped
    a, b = load_run(seenet)
    assert (a.label, b.label) == ('SeeNet/pseudo_nocrf', 'SeeNet/pseudo_crf')
    assert a.scalars == {'seed': 0, 'context_fg_rate': 0.314}
    c, d = load_run(nested, name='ablation')
    assert (c.section, d.section, c.scalars, d.mIoU) == ('pseudo_nocrf', 'pseudo_crf', {'context_fg_rate': 0.2}, 62.5)
    with pytest.raises(ValueError, match='no metrics'):
        load_metrics({'foo': 'bar'}, 'x')
    with pytest.raises(FileNotFoundError, match='metrics.json'):
        load_run(tmp_path / 'absent')


def test_per_class_table_markdown_and_csv(tmp_path, capsys):
    runs = _runs(tmp_path)
    out = tmp_path / 'res' / 'table'
    assert _tool().main([*map(str, runs[:2]), '--out', str(out), '--names', 'EPS', 'SeeNet']) == 0
    md = (tmp_path / 'res' / 'table.md').read_text()
    assert md == capsys.readouterr().out
    lines = md.splitlines()
    assert lines[0] == '| method | bkg | aero | bike | mIoU |'
    assert lines[2] == '| EPS | 88.1 | 80.1 | – | 69.2 |'
    assert lines[3] == '| SeeNet/pseudo_nocrf | 85.0 | 70.4 | 30.0 | 61.3 |'
    assert len(lines) == 5
    df = pd.read_csv(tmp_path / 'res' / 'table.csv', index_col=0)
    assert list(df.columns) == ['run', 'section', 'background', 'aeroplane', 'bicycle', 'mIoU']
    assert df.loc['SeeNet/pseudo_crf', 'mIoU'] == 63.0 and pd.isna(df.loc['EPS', 'bicycle'])


def test_summary_table(tmp_path):
    runs = _runs(tmp_path)
    md = make_table(runs, mode='summary', out=tmp_path / 'abl.md', sections=['main', 'pseudo_crf'])
    lines = md.splitlines()
    assert lines[0] == '| method | mIoU | aAcc | num_images | seed_mIoU | seed | context_fg_rate |'
    assert lines[2] == '| eps | 69.22 | 90.50 | 1464 | 50.04 | – | – |'
    assert lines[3] == '| SeeNet/pseudo_crf | 63.00 | – | – | – | 0 | – |'
    assert lines[4] == '| abl/pseudo_crf | 62.50 | – | – | – | – | 0.20 |'
    assert (tmp_path / 'abl.csv').is_file()
    with pytest.raises(ValueError, match='names'):
        make_table(runs, names=['a'])


def test_update_metrics_section_converts_flat(tmp_path):
    f = tmp_path / 'metrics.json'
    f.write_text(json.dumps({'mIoU': 50.0, 'IoU': {'background': 80.0}, 'fg_rate': 0.3}))
    doc = update_metrics_section(f, 'pseudo_crf', {'mIoU': 55.0}, name='run1')
    assert doc == json.loads(f.read_text())
    assert doc['name'] == 'run1' and set(doc['sections']) == {'main', 'pseudo_crf'}
    assert doc['sections']['main']['fg_rate'] == 0.3
    update_metrics_section(f, 'pseudo_crf', {'mIoU': 56.0})
    secs = load_run(f)
    assert [(s.label, s.mIoU) for s in secs] == [('run1/main', 50.0), ('run1/pseudo_crf', 56.0)]
