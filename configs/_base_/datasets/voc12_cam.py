# PASCAL VOC 2012 (train_aug) for the CAM stage, EPS recipe (metadata/dataset.py of halbielee/EPS).
train_dataset = dict(
    type='VOCDataset', split='train_aug', ann_dir='SegmentationClassAug',
    labels_file=None,  # e.g. 'cls_labels.json' when train_aug masks are not on disk
    transforms=dict(resize_long=(256, 512), flip=True, color_jitter=(0.3, 0.3, 0.3, 0.1), crop_size=448,
                    resample='bicubic'))
infer_dataset = dict(type='VOCDataset', ann_dir='SegmentationClassAug')
saliency_source = dict(type='FolderSaliency')   # reads <data_root>/<saliency_dir>/<id>.png
# official infer.py: scales 0.5/1/1.5/2 + flip, bicubic resize, background score 0.2; CRF off (EPS README)
pseudo = dict(split='train', scales=(0.5, 1.0, 1.5, 2.0), flip=True, seed_bg_score=0.2,
              rule=dict(type='EPSRule', bg_score=0.2), use_saliency=False, crf=None, num_workers=4)
