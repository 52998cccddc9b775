# SeeNet (S_A, S_B with C-ReLU, S_C background branch) on EfficientNet-Lite0, synthetic set; saliency is used
# by the pseudo-label rule only (training uses none).
_base_ = ['./cam_lite0_synthetic.py']
model = dict(seenet=dict(delta_h=0.7, delta_l=0.05, num_convs=0))
# SeeNet's proxy ground truth (the paper's use of saliency): saliency decides object vs background, the
# attention maps decide the class; the dense CRF then decides the pixels the rule leaves uncertain (salient but
# unattended body, attended but not salient context) from probs [1 - S, S * N_k / sum_j N_j] (relative=True:
# the attention maps only share the salient mass among the present classes). wsss/pseudo/rules.py.
# Measured on the synthetic set (EPS+SeeNet, good saliency): 49.0 mIoU before CRF, 79.0 after; with
# relative=False the CRF leaves unattended body pixels to the background (61.3).
pseudo = dict(rule=dict(_delete_=True, type='SaliencyProxyRule', sal_thr=0.5, fg_thr=0.2, conflict_thr=0.5,
                        relative=True),
              use_saliency=True, crf_fills_ignore=True)
