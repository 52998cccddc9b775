# EPS (CVPR21) as halbielee/EPS trains it on VOC: ResNet-38, fc8 with 20 + 1 (background, last) outputs, no
# dropout7; loss = multilabel soft margin on the 20 fg GAP logits + EPS saliency loss (tau 0.4, lam 0.5 for VOC;
# COCO: lam 0.9). Test time softmax over 21, fg channels, scales/flips summed. Head lr x10.
_base_ = ['./cam_plain.py']
model = dict(background=True, sal_loss=dict(_delete_=True, type='EPSSaliencyLoss', tau=0.4, lam=0.5), dropout=0.0)
