# DeepLab-v3+ (Lite0, OS 16, decoder at stride 4) on the synthetic set, head lr 10x, 500 iterations at the base
# lr 6e-3 (results: README "Segmenters", benchmarks/RESULTS.md).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/deeplabv3plus_lite0.py',
          '../_base_/datasets/synthetic_seg.py', '../_base_/schedules/seg_synthetic.py']
train_cfg = dict(max_iters=500)
