"""Dense-CRF hyper-parameters and the two presets of the papers we reproduce."""
from __future__ import annotations

from dataclasses import dataclass

#: ``CRFParams.backend`` values; ``'auto'``: ``'torch'`` on a CUDA device, ``'pydensecrf'`` otherwise
BACKENDS = ('auto', 'pydensecrf', 'torch')


@dataclass(frozen=True)
class CRFParams:
    """Dense-CRF hyper-parameters (names follow deeplab-pytorch's config) and the backend that computes it."""
    iterations: int = 10
    pos_w: float = 3.0        # compat of the Gaussian (smoothness) kernel
    pos_xy_std: float = 1.0   # sxy of the Gaussian kernel
    bi_w: float = 4.0         # compat of the bilateral (appearance) kernel
    bi_xy_std: float = 67.0   # sxy of the bilateral kernel
    bi_rgb_std: float = 3.0   # srgb of the bilateral kernel
    clip: float = 1e-5        # probabilities are clipped to [clip, 1] before -log
    backend: str = 'auto'     # one of BACKENDS

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f'CRFParams.backend must be one of {BACKENDS}, got {self.backend!r}')

    @classmethod
    def deeplab_v2(cls, **kw) -> 'CRFParams':
        """kazuto1011/deeplab-pytorch VOC12 (the DeepLab-v2 setting reported by EPS)."""
        return cls(iterations=10, pos_w=3, pos_xy_std=1, bi_w=4, bi_xy_std=67, bi_rgb_std=3, **kw)

    @classmethod
    def psa(cls, **kw) -> 'CRFParams':
        """psa / EPS ``crf_inference`` (used for CAM pseudo-label refinement)."""
        return cls(iterations=10, pos_w=3, pos_xy_std=3, bi_w=10, bi_xy_std=80, bi_rgb_std=13, **kw)
