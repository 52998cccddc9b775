# DeepLab-v2 WSSS recipe: SGD lr 2.5e-4, momentum 0.9, wd 5e-4, poly 0.9, 20k iterations, batch 10 (global;
# 5 x iter_size 2 in deeplab-pytorch). The head's x10 / x20 multipliers come with the model base (paramwise_cfg).
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False)]
train_cfg = dict(max_iters=20000, batch_size=10, num_workers=8, log_interval=50, ckpt_interval=2000, seed=0)
