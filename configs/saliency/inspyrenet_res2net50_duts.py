# InSPyReNet (Kim et al., ACCV 2022) with Res2Net-50 v1b 26w-4s, trained on DUTS-TR: the official recipe
# (configs/InSPyReNet_Res2Net50.yaml + run/Train.py of plemeri/InSPyReNet).
# Train:     python tools/train_saliency.py configs/saliency/inspyrenet_res2net50_duts.py --work-dir work_dirs/sal_r50 \
#                --cfg-options data_root=data/DUTS-TR \
#                model.backbone.pretrained=data/backbone_ckpt/res2net50_v1b_26w_4s-3cf99910.pth
# Inference: python tools/make_saliency.py configs/saliency/inspyrenet_res2net50_duts.py --checkpoint latest.pth \
#                --data-root data/VOC2012 --split train_aug --out-name inspyrenet_r50
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/DUTS-TR'                 # DUTS layout: Image/*.jpg, GT/*.png
model = dict(
    type='InSPyReNet',
    # pretrained: local ImageNet weights (res2net50_v1b_26w_4s-3cf99910.pth or timm res2net50d); never downloaded.
    # Training refuses None (set the file, or pretrained='none' for random init on purpose); inference loads the
    # full checkpoint and ignores it.
    backbone=dict(type='Res2NetV1b', pretrained=None),
    depth=64,
    base_size=[384, 384],                  # training resolution; stored in our checkpoints, checked at inference
    threshold=None,                        # Res2Net: no pyramid blending (official)
    loss=dict(type='InSPyReNetLoss', pc_weight=1e-4))
# data_root and base_size come from the top level / model (override with --cfg-options)
train_dataset = dict(type='DUTSDataset', split=None, augment=True)
eval_split = None                          # DUTS-TE is another folder: evaluate with tools/eval_saliency.py
inference = dict(mode='static', threshold=None, L=1280)   # official test setting: one pass at 384x384

# Adam, lr 1e-5 for the backbone and x10 (1e-4) for the rest, no weight decay, batch 6, 60 epochs of DUTS-TR
# (10553 images -> 1759 it/epoch -> 105540 iterations), poly 0.9 to 1e-7 with a 12000-iteration warm-up from 0.1 lr.
# Deviation: the official PolyLr takes min(warm-up, poly); the two mmengine schedulers below multiply instead.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, weight_decay=0.0))
paramwise_cfg = dict(custom_keys={'backbone': dict(lr_mult=0.1)})
param_scheduler = [dict(type='LinearLR', start_factor=0.1, begin=0, end=12000, by_epoch=False),
                   dict(type='PolyLR', power=0.9, eta_min=1e-7, begin=0, by_epoch=False)]
train_cfg = dict(max_iters=105540, batch_size=6, num_workers=8, log_interval=50, ckpt_interval=1759, seed=0)
