"""Run records (the one metrics.json schema) and the tables made from them."""
import json

import pandas as pd
import pytest

from tools_cli import load_tool
from wsss.engine.records import SCHEMA, read_record, update_section, write_record
from wsss.report.tables import load_run, make_table, markdown_table


def _runs(tmp_path):
    write_record(tmp_path / 'eps', 'eval_labels', name='eps', sections={
        'labels': {'mIoU': 69.22, 'IoU': {'background': 88.14, 'aeroplane': 80.06, 'bicycle': None},
                   'aAcc': 90.5, 'num_images': 1464, 'split': 'train', 'raw': {'mIoU': 0.69}}})
    write_record(tmp_path / 'seenet', 'make_pseudo', name='SeeNet', sections={
        'pseudo_nocrf': {'mIoU': 61.26, 'IoU': {'background': 85.0, 'aeroplane': 70.44, 'bicycle': 30.0},
                         'extra': {'context_fg_rate': 0.314}},
        'pseudo_crf': {'mIoU': 63.0, 'IoU': {'background': 86.0, 'aeroplane': 72.0, 'bicycle': 31.0}},
    })
    write_record(tmp_path / 'abl', 'make_pseudo', sections={
        'pseudo_nocrf': {'mIoU': 60.0}, 'pseudo_crf': {'mIoU': 62.5, 'extra': {'context_fg_rate': 0.2}}})
    return [tmp_path / 'eps', tmp_path / 'seenet', tmp_path / 'abl']


def test_one_writer_one_reader(tmp_path):
    rec = write_record(tmp_path / 'run', 'eval_seg', {'val_ss': {'mIoU': 70.0}}, config='configs/x.py',
                       inputs={'checkpoint': tmp_path / 'final.pth', 'scales': (1.0,)})
    doc = json.loads((tmp_path / 'run' / 'metrics.json').read_text())
    assert doc['schema'] == SCHEMA and doc['stage'] == 'eval_seg' and doc['name'] == 'run'
    assert doc['inputs'] == {'checkpoint': str(tmp_path / 'final.pth'), 'scales': [1.0]}  # JSON-safe
    assert read_record(tmp_path / 'run') == read_record(tmp_path / 'run' / 'metrics.json')
    assert read_record(tmp_path / 'run').sections == rec.sections
    # a second evaluation of the same run keeps the first
    update_section(tmp_path / 'run', 'eval_seg', 'val_ss_flip_crf', {'mIoU': 71.5})
    assert list(read_record(tmp_path / 'run').sections) == ['val_ss', 'val_ss_flip_crf']
    assert read_record(tmp_path / 'run').config == 'configs/x.py'
    with pytest.raises(KeyError, match="no section 'test_ss'.*'val_ss', 'val_ss_flip_crf'"):
        read_record(tmp_path / 'run').section('test_ss')
    with pytest.raises(ValueError, match='unknown stage'):
        write_record(tmp_path / 'x', 'train_everything', {})


def test_reader_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='metrics.json'):
        read_record(tmp_path / 'absent')
    bad = tmp_path / 'flat' / 'metrics.json'
    bad.parent.mkdir()
    bad.write_text(json.dumps({'mIoU': 69.2, 'IoU': {}}))  # the legacy flat form is not read
    with pytest.raises(ValueError, match=r'flat.metrics\.json: not a wsss run record'):
        read_record(bad)
    bad.write_text('{"sections": {"a": {"mIoU": "high"}}}')
    with pytest.raises(ValueError, match="section 'a': mIoU must be a number"):
        read_record(bad)
    bad.write_text('{not json')
    with pytest.raises(ValueError, match='invalid JSON'):
        read_record(bad)


def test_rows_of_a_run(tmp_path):
    eps, seenet, abl = _runs(tmp_path)
    (s,) = load_run(eps)
    assert (s.run, s.section, s.label, s.mIoU) == ('eps', 'labels', 'eps', 69.22)
    assert s.scalars == {'aAcc': 90.5, 'num_images': 1464}   # strings / dicts are not columns
    a, b = load_run(seenet)
    assert (a.label, b.label) == ('SeeNet/pseudo_nocrf', 'SeeNet/pseudo_crf')
    assert a.scalars == {'context_fg_rate': 0.314}
    c, d = load_run(abl, name='ablation')
    assert (c.label, d.label, d.scalars, d.mIoU) == ('ablation/pseudo_nocrf', 'ablation/pseudo_crf',
                                                     {'context_fg_rate': 0.2}, 62.5)
    write_record(tmp_path / 'empty', 'train_cam', {})
    with pytest.raises(ValueError, match='no sections'):
        load_run(tmp_path / 'empty')


def test_per_class_table_markdown_and_csv(tmp_path, capsys):
    runs = _runs(tmp_path)
    out = tmp_path / 'res' / 'table'
    assert load_tool('make_table').main([*map(str, runs[:2]), '--out', str(out), '--names', 'EPS', 'SeeNet']) == 0
    md = (tmp_path / 'res' / 'table.md').read_text()
    assert md == capsys.readouterr().out
    lines = md.splitlines()
    assert lines[0] == '| method | bkg | aero | bike | mIoU |'
    assert lines[1] == '|:---|---:|---:|---:|---:|'
    assert lines[2] == '| EPS | 88.1 | 80.1 | – | 69.2 |'
    assert lines[3] == '| SeeNet/pseudo_nocrf | 85.0 | 70.4 | 30.0 | 61.3 |'
    assert len(lines) == 5
    df = pd.read_csv(tmp_path / 'res' / 'table.csv', index_col=0)
    assert list(df.columns) == ['run', 'section', 'background', 'aeroplane', 'bicycle', 'mIoU']
    assert df.loc['SeeNet/pseudo_crf', 'mIoU'] == 63.0 and pd.isna(df.loc['EPS', 'bicycle'])


def test_summary_table(tmp_path):
    runs = _runs(tmp_path)
    md = make_table(runs, mode='summary', out=tmp_path / 'abl.md', sections=['labels', 'pseudo_crf'])
    lines = md.splitlines()
    assert lines[0] == '| method | mIoU | aAcc | num_images | context_fg_rate |'
    assert lines[2] == '| eps | 69.22 | 90.50 | 1464 | – |'
    assert lines[3] == '| SeeNet/pseudo_crf | 63.00 | – | – | – |'
    assert lines[4] == '| abl/pseudo_crf | 62.50 | – | – | 0.20 |'
    assert (tmp_path / 'abl.csv').is_file()
    with pytest.raises(ValueError, match='names'):
        make_table(runs, names=['a'])
    with pytest.raises(ValueError, match='no section named'):
        make_table(runs, sections=['nope'])


def test_markdown_table_helper():
    assert markdown_table(['a', 'b'], [[1, 'x'], ['–', 2.5]]) == '| a | b |\n|---|---|\n| 1 | x |\n| – | 2.5 |'
    assert markdown_table(['a'], [], [':---']) == '| a |\n|:---|'
    with pytest.raises(ValueError, match='a row has 1 cells for 2 columns'):
        markdown_table(['a', 'b'], [[1]])
