from wsss.models.backbones import resnet38  # noqa: F401
