from wsss.models.backbones import resnet38  # noqa: F401
from wsss.models.backbones import torchvision_resnet  # noqa: F401
from wsss.models.backbones import efficientnet_lite  # noqa: F401
from wsss.models.backbones import vgg  # noqa: F401
