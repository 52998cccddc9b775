# EPS + SeeNet (the project's method, configs/_base_/models/cam_eps_seenet.py) on EfficientNet-Lite0
# (configs/_base_/models/cam_lite0.py), synthetic set.
_base_ = ['../_base_/default_runtime.py', '../_base_/models/cam_eps_seenet.py', '../_base_/models/cam_lite0.py',
          '../_base_/datasets/synthetic_cam.py', '../_base_/schedules/cam_synthetic.py']
model = dict(_base_._lite0_model, head=_base_._lite0_branches)
# SeeNet's proxy pseudo-labels; the dense CRF then decides the pixels the rule leaves uncertain (salient but
# unattended body, attended but not salient context) from probs [1 - S, S * N_k / sum_j N_j]. The choice:
# benchmarks/RESULTS.md, "Label rule and segmenter on the v1.1 set".
pseudo = dict(_base_._seenet_pseudo, crf_fills_ignore=True)
