# SeeNet (NeurIPS18) on ResNet-38: branches S_A (fc8), S_B (fc8_b, on C-ReLU features) and S_C (fc8_c, on the
# background zone, all-zero target), each conv3x3-512+ReLU x2 -> Dropout2d(0.5) -> 1x1 (paper head).
# Thresholds: paper 0.7 / 0.05 of the attention maximum (official Caffe deploy: 0.8 / 0.0).
# Test time: max of min-max normalised S_A and S_B maps; scales/flips fused by max. Heads lr x10.
_base_ = ['./cam_plain.py']
model = dict(seenet=dict(_delete_=True, delta_h=0.7, delta_l=0.05, num_convs=2, channels=512, dropout=0.5), dropout=0.0)
