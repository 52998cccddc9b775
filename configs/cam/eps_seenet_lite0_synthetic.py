# EPS + SeeNet (the project's method, configs/_base_/models/cam_eps_seenet.py) on EfficientNet-Lite0, synthetic
# set; bare 1x1 branch heads (num_convs=0) as EPS's fc8.
_base_ = ['./cam_lite0_synthetic.py']
model = dict(background=True, sal_loss=dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5),
             seenet=dict(delta_h=0.7, delta_l=0.05, num_convs=0, detach_branches=True,
                         fused_sal_loss=False, branch_sal_loss=True, test_fusion='mean'))
