"""Pseudo-label generation: multi-scale CAM inference and the rules turning CAMs into label maps."""
from wsss.pseudo import cam_infer, rules  # noqa: F401
from wsss.pseudo.cam_infer import multiscale_cam
from wsss.pseudo.rules import EPSRule, SaliencyProxyRule, normalize_cams

__all__ = ['EPSRule', 'SaliencyProxyRule', 'multiscale_cam', 'normalize_cams']
