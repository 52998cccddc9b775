from wsss.models.segmenters import decode_heads  # noqa: F401
from wsss.models.segmenters import sa_head  # noqa: F401
from wsss.models.segmenters import encoder_decoder  # noqa: F401
