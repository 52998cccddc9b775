# EPS + SeeNet in one model (see CAMClassifier's docstring): S_A and S_B have 20 + 1 outputs (background last),
# S_C 20; the C-ReLU/background masks come from S_A's softmax fg maps. S_A is the EPS head (loss_cls + loss_sal);
# S_B is a second EPS branch on C-ReLU features (loss_cls_b + loss_sal_b); S_C predicts "no object" on the
# background zone. S_B and S_C read detached features, so the backbone is shaped by S_A (the EPS solution);
# test time: mean of the min-max normalised S_A and S_B maps. These choices were measured on the synthetic set
# (README, "EPS + SeeNet"): the paper-style alternatives (fused_sal_loss=True, shared gradients, max fusion)
# are options of the same model.
_base_ = ['./cam_eps.py']
model = dict(seenet=dict(_delete_=True, delta_h=0.7, delta_l=0.05, num_convs=2, channels=512, dropout=0.5,
                         detach_branches=True, fused_sal_loss=False, branch_sal_loss=True, test_fusion='mean'))
