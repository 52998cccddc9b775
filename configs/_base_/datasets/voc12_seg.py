# PASCAL VOC 2012 aug for the segmenter (kazuto1011/deeplab-pytorch recipe: scale 0.5-1.5, flip, crop 321).
train_dataset = dict(type='VOCDataset', split='train_aug', ann_dir='SegmentationClassAug',
                     labels_file=None,
                     transforms=dict(scale_range=(0.5, 1.5), flip=True, crop_size=321, resample='bilinear'))
infer_dataset = dict(type='VOCDataset', ann_dir='SegmentationClass')
evaluation = dict(split='val')
