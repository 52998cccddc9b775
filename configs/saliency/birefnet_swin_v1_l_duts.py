# BiRefNet (Zheng et al., "Bilateral Reference for High-Resolution Dichotomous Image Segmentation", CAAI AIR 2024),
# the general model: Swin-L (window 12) at 1024x1024 - the architecture of the released BiRefNet-general-epoch_244.pth
# and of the HuggingFace ZhengPeng7/BiRefNet model.safetensors (README model zoo: DIS-VD S 0.911, wF 0.875).
# Inference with a released file (keys with module. / _orig_mod. prefixes or safetensors load as they are):
#   python tools/make_saliency.py configs/saliency/birefnet_swin_v1_l_duts.py --checkpoint BiRefNet-general-epoch_244.pth \
#       --data-root data/VOC2012 --split train_aug --out-name birefnet
# Training on a DUTS-layout folder (Image/*.jpg, GT/*.png):
#   python tools/train_saliency.py configs/saliency/birefnet_swin_v1_l_duts.py --work-dir work_dirs/birefnet_l \
#       --cfg-options data_root=data/DUTS-TR model.backbone.pretrained=swin_large_patch4_window12_384_22kto1k.pth
# DIS5K layout (im/*.jpg, gt/*.png): add data_root=data/DIS5K/DIS-TR train_dataset.img_dir=im train_dataset.gt_dir=gt
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/DUTS-TR'
model = dict(
    type='BiRefNet',
    # pretrained: local ImageNet weights in Microsoft's layout; never downloaded. Training refuses None (set the
    # file, or 'none' for random init on purpose); inference loads the full checkpoint and ignores it.
    backbone=dict(type='SwinTransformerV1', embed_dim=192, depths=[2, 2, 18, 2], num_heads=[6, 12, 24, 48],
                  window_size=12, drop_path_rate=0.2, pretrained=None),
    base_size=[1024, 1024],                # the model's input size (official config.size); multiple of 32
    loss=dict(type='BiRefNetLoss'))
train_dataset = dict(type='DUTSDataset', split=None, augment=True)
eval_split = None
# official inference.py: one pass at the model size (cv2 INTER_LINEAR resize), sigmoid, back to the image size
inference = dict(mode='static', threshold=None, L=1280)

# Official train.py / config.py (task 'General'): AdamW, lr 1e-5 * sqrt(batch / 4), weight decay 1e-2, batch 8, no
# lr decay (lr_decay_epochs = [1e5]), 200 epochs. Deviations: our DUTS augmentation is flip + scale crop (official:
# flip, colour enhance, rotation, pepper noise); the last-epochs fine-tune phase (loss weights changed per epoch) is
# not reproduced.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1.4142e-5, weight_decay=1e-2))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
train_cfg = dict(max_iters=263800, batch_size=8, num_workers=8, log_interval=50, ckpt_interval=1319, seed=0)
