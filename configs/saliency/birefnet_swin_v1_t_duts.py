# BiRefNet lite: Swin-T (window 7) at 1024x1024 - the architecture of the released
# BiRefNet-general-bb_swin_v1_tiny-epoch_232.pth and of HuggingFace ZhengPeng7/BiRefNet_lite
# (README model zoo: DIS-VD S 0.882, wF 0.830). Same recipe as the Swin-L config.
#   python tools/make_saliency.py configs/saliency/birefnet_swin_v1_t_duts.py \
#       --checkpoint BiRefNet-general-bb_swin_v1_tiny-epoch_232.pth --data-root data/VOC2012 --out-name birefnet_lite
_base_ = ['./birefnet_swin_v1_l_duts.py']

model = dict(
    # pretrained: swin_tiny_patch4_window7_224_22kto1k_finetune.pth (Microsoft layout)
    backbone=dict(embed_dim=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24], window_size=7))
