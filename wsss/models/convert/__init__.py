"""Weight import (``tools/convert_weights.py``): the MXNet ``.params`` reader and the converters from released
weight files (MXNet ResNet-38, torchvision / timm, deeplab-pytorch COCO init, InSPyReNet) to our layouts."""
from wsss.models.convert.mxnet_params import MXNetParamsError, read_mxnet_params
from wsss.models.convert.weights import FORMATS, convert_file, convert_weights

__all__ = ['FORMATS', 'MXNetParamsError', 'convert_file', 'convert_weights', 'read_mxnet_params']
