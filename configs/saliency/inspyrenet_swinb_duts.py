# InSPyReNet with Swin-B (window 12, 384 px, ImageNet-22k -> 1k weights) on DUTS-TR: the official recipe
# (configs/InSPyReNet_SwinB.yaml). Same optimisation as the Res2Net-50 config; test time uses pyramid blending:
# dynamic resize (short side <= 1280, multiple of 32) and, when both sides exceed 512, an LR pass at 384x384
# blended with the HR pass. transparent-background checkpoints: ckpt_fast.pth -> base_size 384 (mode static),
# ckpt_base.pth -> --base-size 1024 1024 (mode static); neither was used with blending by that package.
_base_ = ['./inspyrenet_res2net50_duts.py']

model = dict(
    # pretrained: local swin_base_patch4_window12_384_22kto1k.pth (Microsoft layout, state_dict under 'model');
    # training refuses None (set the file, or pretrained='none' for random init on purpose)
    backbone=dict(_delete_=True, type='SwinTransformerV1', embed_dim=128, depths=[2, 2, 18, 2],
                  num_heads=[4, 8, 16, 32], window_size=12, drop_path_rate=0.2, pretrained=None),
    threshold=512)
inference = dict(mode='blend', threshold=512, L=1280)
