# Plain CAM (configs/_base_/models/cam_plain.py) on EfficientNet-Lite0 (configs/_base_/models/cam_lite0.py),
# synthetic set.
_base_ = ['../_base_/default_runtime.py', '../_base_/models/cam_plain.py', '../_base_/models/cam_lite0.py',
          '../_base_/datasets/synthetic_cam.py', '../_base_/schedules/cam_synthetic.py']
model = _base_._lite0_model
