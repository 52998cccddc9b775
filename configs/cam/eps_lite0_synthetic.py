# EPS (C+1 classes, saliency loss tau=0.4, lambda=0.5) on EfficientNet-Lite0, synthetic set.
_base_ = ['./cam_lite0_synthetic.py']
model = dict(background=True, sal_loss=dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5))
