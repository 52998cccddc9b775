# EPS + SeeNet (this project's method): EPSSeeNetHead, whose defaults are the shipped coupling (S_A is the EPS
# head, S_B a second EPS branch on the C-ReLU features, S_B and S_C on detached features, test-time mean of S_A
# and S_B; the choice and its alternatives: the class docstring and README, "EPS + SeeNet"). SeeNet's branch
# layers and thresholds and EPS's saliency loss (tau 0.4, lambda 0.5) are the heads' defaults. No dropout7.
_base_ = ['./cam_seenet.py']
model = dict(head=dict(type='EPSSeeNetHead'))
