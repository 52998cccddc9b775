# The synthetic recipe before issue 12 (shipped until 2026-12-03): configs/cam/seenet_lite0_synthetic.py with SGD
# (lr 1e-2, momentum 0.9, weight decay 1e-4; the heads' 10x lr and the poly schedule stay). For comparisons:
# tools/robustness.py --cam-configs 'configs/cam/sgd/{method}_lite0_synthetic.py'.
_base_ = ['../seenet_lite0_synthetic.py']
optim_wrapper = dict(optimizer=dict(_delete_=True, type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
