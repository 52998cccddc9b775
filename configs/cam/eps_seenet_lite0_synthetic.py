# EPS + SeeNet (the project's method) on EfficientNet-Lite0, synthetic set.
_base_ = ['./cam_lite0_synthetic.py']
model = dict(background=True, sal_loss=dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5),
             seenet=dict(delta_h=0.7, delta_l=0.05, num_convs=1, channels=128, dropout=0.0))
