# Synthetic set for the segmenter: labels from label_dir (pseudo-labels), val evaluated against GT.
train_dataset = dict(type='VOCDataset', split='train',
                     transforms=dict(scale_range=(0.75, 1.25), flip=True, crop_size=112, resample='bilinear'))
infer_dataset = dict(type='VOCDataset')
evaluation = dict(split='val')
