# SeeNet (NeurIPS18): SeeNetHead with the paper's settings (its defaults): S_A (fc8), S_B (fc8_b, on C-ReLU
# features) and S_C (fc8_c, on the background zone, all-zero target), each conv3x3-512+ReLU x2 -> Dropout2d(0.5)
# -> 1x1; thresholds 0.7 / 0.05 of the attention maximum; test time max of the min-max normalised S_A and S_B
# maps, scales/flips fused by max. No dropout7.
_base_ = ['./cam_plain.py']
model = dict(dropout=0.0, head=dict(type='SeeNetHead'))
# SeeNet's proxy ground truth (the paper's use of saliency), for the SeeNet-family leaves (`pseudo =
# _base_._seenet_pseudo`; the leading `_` marks a config-file helper): saliency decides object vs background, the
# attention maps decide the class (relative=True: they only share the salient mass among the present classes);
# the pixels the rule leaves uncertain are 255. wsss/pseudo/rules.py: SaliencyProxyRule.
_seenet_pseudo = dict(rule=dict(_delete_=True, type='SaliencyProxyRule', sal_thr=0.5, fg_thr=0.2, conflict_thr=0.5,
                                relative=True),
                      use_saliency=True)
