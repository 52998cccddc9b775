# SeeNet (S_A, S_B with C-ReLU, S_C background branch) on EfficientNet-Lite0, synthetic set; no saliency.
_base_ = ['./cam_lite0_synthetic.py']
model = dict(seenet=dict(delta_h=0.7, delta_l=0.05, num_convs=0))
