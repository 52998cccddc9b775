# Fast InSPyReNet run on the synthetic DUTS-layout set (python tools/make_synthetic_voc.py data/synthetic_voc):
# full Res2Net-50 v1b from scratch, decoder depth 32, base size 96, 300 iterations of batch 4 (CPU: minutes).
#   python tools/train_saliency.py configs/saliency/inspyrenet_res2net50_synthetic.py --work-dir work_dirs/sal_syn
# After training, the 'test' split is predicted and scored (metrics.json in the work dir).
_base_ = ['./inspyrenet_res2net50_duts.py']

data_root = 'data/synthetic_voc/sod'
# from scratch on purpose: pretrained='none' (unset, the training stage would refuse to start from random weights)
model = dict(depth=32, base_size=[96, 96], backbone=dict(pretrained='none'))
train_dataset = dict(split='train')
eval_split = 'test'
inference = dict(mode='static', threshold=None)
optim_wrapper = dict(optimizer=dict(lr=5e-4))
paramwise_cfg = dict(custom_keys={'backbone': dict(lr_mult=1.0)})
param_scheduler = [dict(type='LinearLR', start_factor=0.1, begin=0, end=30, by_epoch=False),
                   dict(type='PolyLR', power=0.9, eta_min=1e-6, begin=0, by_epoch=False)]
train_cfg = dict(max_iters=300, batch_size=4, num_workers=2, log_interval=10, ckpt_interval=100, seed=0)
