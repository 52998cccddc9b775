from wsss.models.losses import seg_losses  # noqa: F401
