# Short CPU schedule for the synthetic set (SGD + poly; head multipliers come from the model's paramwise_cfg).
# lr 6e-3 with a 25-iteration linear warm-up and gradient clipping, 1000 iterations: the learning rate chosen by
# the sweep in benchmarks/RESULTS.md ("Segmenter learning rate"); without the warm-up and clipping the 10x/20x
# ASPP head diverges on Lite0 features.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=6e-3, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=25),
                   dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=25)]
# channels_last: NHWC (benchmarks/bench_lite0_cpu.py)
train_cfg = dict(max_iters=1000, batch_size=16, num_workers=2, log_interval=25, ckpt_interval=100, seed=0,
                 channels_last=True)
