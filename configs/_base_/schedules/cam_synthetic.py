# Short CPU schedule for the synthetic set: SGD + poly (the heads' 10x lr comes with the model base).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False)]
train_cfg = dict(max_iters=250, batch_size=16, num_workers=2, log_interval=25, ckpt_interval=100, seed=0)
