from wsss.drivers.ablation import ablation_table, run_row
from wsss.engine.records import write_record


def _metrics(tmp_path, name, crf=True):
    rates = lambda b: dict(context_fg_rate=0.7 * b, background_fg_rate=0.1 * b, body_recall=0.3 * b,  # noqa: E731
                           part_recall=0.6 * b, fg_precision=0.5 * b, fg_recall=0.4 * b)
    sections = {'seed': {'mIoU': 19.43, 'extra': rates(1.0)}, 'pseudo_nocrf': {'mIoU': 49.0, 'extra': rates(0.5)}}
    if crf:
        sections['pseudo_crf'] = {'mIoU': 79.04, 'extra': rates(0.25)}
    write_record(tmp_path / name, 'make_pseudo', sections)
    return tmp_path / name


def test_rows_take_rates_from_the_seed_and_precision_from_the_final_labels(tmp_path):
    row = run_row('eps_seenet', 'saliency/good', _metrics(tmp_path, 'a'))
    assert (row['seed_mIoU'], row['nocrf_mIoU'], row['crf_mIoU']) == (19.43, 49.0, 79.04)
    assert row['context_fg_rate'] == 0.7 and row['body_recall'] == 0.3 and row['part_recall'] == 0.6  # seed
    assert row['fg_precision'] == 0.5 * 0.25 and row['fg_recall'] == 0.4 * 0.25  # after CRF
    no_crf = run_row('cam', None, _metrics(tmp_path, 'b', crf=False))
    assert no_crf['crf_mIoU'] is None and no_crf['fg_precision'] == 0.25 and no_crf['saliency'] == '—'
    md, df = ablation_table([row, no_crf])
    lines = md.splitlines()
    assert lines[0].startswith('| method | saliency | seed mIoU | pseudo mIoU (no CRF) | pseudo mIoU (CRF) |')
    assert lines[2] == ('| eps_seenet | saliency/good | 19.4 | 49.0 | 79.0 | 70.0% | 10.0% | 30.0% | 60.0% | '
                        '12.5% | 10.0% |')
    assert lines[3].split(' | ')[4] == '–' and len(df) == 2
