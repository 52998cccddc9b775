# SANet (SA modules on 4 levels, mask + 0.2 categorical + 0.8 dense losses) on EfficientNet-Lite0 (OS 8),
# synthetic set. lr 3e-3, 500 iterations (with the base schedule's warm-up and clipping); results: README,
# "Segmenters".
_base_ = ['../_base_/default_runtime.py', '../_base_/models/sanet_lite0.py',
          '../_base_/datasets/synthetic_seg.py', '../_base_/schedules/seg_synthetic.py']
optim_wrapper = dict(optimizer=dict(lr=3e-3))
train_cfg = dict(max_iters=500)
