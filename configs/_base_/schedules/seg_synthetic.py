# Short CPU schedule for the synthetic set (SGD + poly; head multipliers come from the model's paramwise_cfg).
# lr 5e-4 (DeepLab-v2 uses 2.5e-4): at 2e-3 the 10x/20x ASPP head diverges on Lite0 features within 20 iterations.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=5e-4, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False)]
train_cfg = dict(max_iters=250, batch_size=16, num_workers=2, log_interval=25, ckpt_interval=100, seed=0)
