# PASCAL VOC 2012 aug for the segmenter (kazuto1011/deeplab-pytorch recipe: a scale drawn from
# {0.5, 0.75, 1, 1.25, 1.5}, flip, crop 321 padded with the mean image and the ignore label).
train_dataset = dict(type='VOCDataset', split='train_aug', ann_dir='SegmentationClassAug',
                     labels_file=None,
                     transforms=dict(scale_choices=(0.5, 0.75, 1.0, 1.25, 1.5), flip=True, crop_size=321,
                                     resample='bilinear'))
infer_dataset = dict(type='VOCDataset', ann_dir='SegmentationClass')
evaluation = dict(split='val')
