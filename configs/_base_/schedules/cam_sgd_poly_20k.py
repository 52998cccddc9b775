# EPS schedule: SGD lr 0.01 (head x10), weight decay 5e-4, poly 0.9, 20k iterations, batch 8 (global).
# Deviation kept on purpose: the official PolyOptimizer passes weight_decay into SGD's momentum slot, so the
# effective momentum is 5e-4 (psa/EPS torchutils.py). Set momentum=0.9 to get textbook SGD.
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.01, momentum=5e-4, weight_decay=5e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False)]
train_cfg = dict(max_iters=20000, batch_size=8, num_workers=8, log_interval=50, ckpt_interval=1000, seed=0)
