"""The demo's summary tables, from metrics files in the layout the stages write."""
from wsss.drivers.demo import POSTPROCESSED_EVAL, failure_mode_report, pipeline_summary
from wsss.engine.records import write_record


def _pseudo_run(tmp_path, name, crf=True):
    rates = dict(context_fg_rate=0.754, background_fg_rate=0.152, body_recall=0.297, part_recall=0.624)
    sections = {'seed': {'mIoU': 19.43}, 'pseudo_nocrf': {'mIoU': 19.44, 'extra': rates}}
    if crf:
        sections['pseudo_crf'] = {'mIoU': 79.04}
    write_record(tmp_path / name, 'make_pseudo', sections)
    return tmp_path / name


def test_summary_reports_the_segmenter_plain_and_post_processed(tmp_path):
    pseudo = {'cam': _pseudo_run(tmp_path, 'pseudo_cam', crf=False), 'eps_seenet': _pseudo_run(tmp_path, 'pseudo_eps')}
    write_record(tmp_path / 'seg', 'eval_seg', {'val_ss': {'mIoU': 73.57}, POSTPROCESSED_EVAL: {'mIoU': 81.15}})
    lines = pipeline_summary(pseudo, tmp_path / 'seg').splitlines()
    assert lines[0].endswith('| DeepLab-v2 (val) | DeepLab-v2 + flip + CRF (val) |')
    assert lines[2] == '| cam | 19.4 | 19.4 | – | – | – |'  # no CRF run, no segmenter for the plain CAM
    assert lines[3] == '| eps_seenet | 19.4 | 19.4 | 79.0 | 73.6 | 81.2 |'


def test_summary_leaves_a_missing_evaluation_blank(tmp_path):
    pseudo = {'eps_seenet': _pseudo_run(tmp_path, 'pseudo_eps')}
    write_record(tmp_path / 'seg', 'eval_seg', {'val_ss': {'mIoU': 73.57}})
    assert pipeline_summary(pseudo, tmp_path / 'seg').splitlines()[2].endswith('| 79.0 | 73.6 | – |')


def test_failure_modes_are_read_from_the_labels_before_crf(tmp_path):
    lines = failure_mode_report({'cam': _pseudo_run(tmp_path, 'pseudo_cam')}).splitlines()
    assert lines[-1] == '| cam | 75.4% | 15.2% | 29.7% | 62.4% |'
