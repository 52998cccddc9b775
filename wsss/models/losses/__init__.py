from wsss.models.losses import multilabel, seg_losses  # noqa: F401
