# Small BiRefNet for the synthetic DUTS-layout split (python tools/make_synthetic_voc.py data/synthetic_voc writes
# data/synthetic_voc/sod): every BiRefNet module (multi-scale 'cat' input, context, deformable ASPP, inward and
# outward reference, the full loss) on a narrow Swin (embed 32, depths 1/1/2/1, window 4) and narrow decoder blocks
# (inter_channels 16, aspp_planes 32; official 64 and 256) from scratch at 96 px,
# so it trains on a CPU in minutes.
#   python tools/train_saliency.py configs/saliency/birefnet_swin_tiny_synthetic.py --work-dir work_dirs/birefnet_syn
_base_ = ['./birefnet_swin_v1_l_duts.py']

data_root = 'data/synthetic_voc/sod'
# from scratch on purpose: pretrained='none'
model = dict(backbone=dict(embed_dim=32, depths=[1, 1, 2, 1], num_heads=[1, 2, 4, 8], window_size=4,
                           drop_path_rate=0.0, pretrained='none'),
             base_size=[96, 96], inter_channels=16, aspp_planes=32)
train_dataset = dict(split='train')
eval_split = 'test'
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, begin=0, end=30, by_epoch=False),
                   dict(type='PolyLR', power=0.9, eta_min=1e-6, begin=0, by_epoch=False)]
train_cfg = dict(max_iters=300, batch_size=4, num_workers=2, log_interval=10, ckpt_interval=100, seed=0)
