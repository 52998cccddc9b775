# EPS (CVPR21) as halbielee/EPS trains it on VOC: EPSHead with its defaults (fc8 with 20 + 1 outputs, background
# last; multi-label soft margin on the 20 fg GAP logits + EPS saliency loss, tau 0.4, lambda 0.5 as the official
# VOC run (COCO: lambda 0.9); test time softmax over 21, fg channels), no dropout7.
_base_ = ['./cam_plain.py']
model = dict(dropout=0.0, head=dict(type='EPSHead'))
