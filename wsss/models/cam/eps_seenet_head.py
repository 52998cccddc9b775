"""EPS + SeeNet head: SeeNet's branches on an EPS classifier (this project's method).

The coupling of the two methods is defined here and only here; its defaults are the shipped method.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from wsss.models.cam.eps_head import EPSHead
from wsss.models.cam.seenet import minmax_normalize
from wsss.models.cam.seenet_head import SeeNetHead
from wsss.registry import CAM_HEADS


@CAM_HEADS.register_module()
class EPSSeeNetHead(SeeNetHead, EPSHead):
    """EPS + SeeNet: :class:`SeeNetHead`'s S_A / S_B / S_C with :class:`EPSHead` as S_A.

    How they combine and why:

    - S_A and S_B both have C + 1 outputs (background last); S_C has C outputs (its target is all-zero anyway,
      and a background logit would be excluded from the loss as in EPS, so it would receive no gradient).
    - S_A is exactly the EPS head (``loss_cls`` + ``loss_sal`` with the official rule), so the model's S_A is an
      EPS classifier and ``num_convs=0`` lets it start from an EPS checkpoint.
    - The ternary/background masks are built from S_A's *softmax foreground probabilities*
      ``A_k = softmax(S_A)_k`` (k < C, :meth:`EPSHead.class_maps`): these are the maps EPS makes
      saliency-consistent and against which the background channel competes, so the background zone (M < δ_l)
      reflects both the classifier and the saliency prior, which is what S_B's negation and S_C's "no object"
      target assume.
    - Where S_B gets its saliency supervision, whether the branches train the backbone and how S_A and S_B are
      fused at test time are choices. The defaults are the shipped method, chosen from measurements on the
      synthetic set (README, "EPS + SeeNet"): with the paper-style alternatives the EPS head S_A itself lost most
      of its seed quality, with the shipped ones it keeps it.

      * shipped: ``branch_sal_loss=True, fused_sal_loss=False, detach_branches=True, test_fusion='mean'`` —
        S_B is a second EPS branch on the C-ReLU features (``loss_sal_b``: its own C+1 softmax must be
        saliency-consistent, so its probabilities in the negated background zone go to the background channel
        rather than spreading over the image), S_B and S_C train on detached features so the backbone follows
        S_A (the EPS solution), and the test-time map is the *mean* of the min-max normalised S_A and S_B maps.
      * paper-style alternative: ``fused_sal_loss=True`` applies the saliency loss to the fused distribution
        ``p_F = (p_A + p_B) / 2`` (``loss_sal_fused``; the EPS rule needs a distribution over C+1, which the
        max of normalised maps is not) instead of S_B alone — S_B sees zeroed features in the erased zone, the
        usually most salient part, so forcing S_B alone to reproduce saliency there can fight its erasing role;
        every branch trains the shared backbone (``detach_branches=False``); ``test_fusion='max'`` is SeeNet's.

    Losses: ``loss_cls``, ``loss_sal`` (S_A, EPS), ``loss_cls_b``, ``loss_cls_c`` (SeeNet), then
    ``loss_sal_b = sal_loss(S_B, S, y)`` if ``branch_sal_loss`` and ``loss_sal_fused`` if ``fused_sal_loss``.
    Test time: ``test_fusion`` of ``minmax(softmax(S_A)_{:C})`` and ``minmax(softmax(S_B)_{:C})`` ('mean', or
    'max' as SeeNet); flips and scales fused by max.

    Args:
        detach_branches: S_B and S_C read ``x.detach()``, so only S_A trains the backbone.
        branch_sal_loss: the saliency loss on S_B's own C+1 distribution (``loss_sal_b``).
        fused_sal_loss: the saliency loss on ``p_F = (softmax(S_A) + softmax(S_B)) / 2`` (``loss_sal_fused``).
        test_fusion: 'mean' or 'max' of the min-max normalised S_A and S_B maps.
        **kwargs: :class:`SeeNetHead` arguments (thresholds, branch layers) and :class:`EPSHead`'s ``sal_loss``.
    """

    def __init__(self, in_channels: int, num_classes: int = 20, detach_branches: bool = True,
                 branch_sal_loss: bool = True, fused_sal_loss: bool = False, test_fusion: str = 'mean', **kwargs):
        if test_fusion not in ('max', 'mean'):
            raise ValueError(f"test_fusion must be 'max' or 'mean', got {test_fusion!r}")
        super().__init__(in_channels, num_classes, **kwargs)
        self.detach_branches = detach_branches
        self.branch_sal_loss = branch_sal_loss
        self.fused_sal_loss = fused_sal_loss
        self.test_fusion = test_fusion

    def branch_input(self, x: torch.Tensor) -> torch.Tensor:
        return x.detach() if self.detach_branches else x  # S_B/S_C leave the shared features to S_A

    def loss(self, out: dict, batch: dict) -> dict:
        losses = super().loss(out, batch)
        if self.sal_loss is None:
            return losses
        sal, label = self.saliency(batch), batch['cls_label'].float()
        if self.branch_sal_loss:                                                   # S_B as its own EPS branch
            losses['loss_sal_b'] = self.sal_loss(out['cam_b'], sal, label)
        if self.fused_sal_loss:
            p_f = 0.5 * (F.softmax(out['cam'], 1) + F.softmax(out['cam_b'], 1))   # p_F = (p_A + p_B) / 2
            losses['loss_sal_fused'] = self.sal_loss.from_probs(p_f, sal, label)
        return losses

    def cam_maps(self, out: dict) -> torch.Tensor:
        if self.test_fusion == 'max':
            return super().cam_maps(out)
        a, b = self.class_maps(out['cam']), self.class_maps(out['cam_b'])
        return 0.5 * (minmax_normalize(a) + minmax_normalize(b))
