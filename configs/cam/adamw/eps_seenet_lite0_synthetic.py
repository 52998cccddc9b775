# Candidate recipe (issue 12): configs/cam/eps_seenet_lite0_synthetic.py with AdamW (lr 1e-3, weight decay 1e-2; the
# heads' 10x lr multiplier and the poly schedule stay). Measured by tools/robustness.py --cam-configs.
_base_ = ['../eps_seenet_lite0_synthetic.py']
optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=1e-2))
