# data_root / saliency_dir: defaults in default_runtime.py (data/synthetic_voc, saliency/good)
# The embedded synthetic VOC-format set (tools/make_synthetic_voc.py): 128-px images, train 400 / val 150.
train_dataset = dict(type='VOCDataset', split='train',
                     transforms=dict(scale_range=(0.9, 1.1), flip=True, color_jitter=(0.1, 0.1, 0.1, 0.0),
                                     crop_size=128, resample='bilinear'))
infer_dataset = dict(type='VOCDataset')
saliency_source = dict(type='FolderSaliency')
# region statistics of the pseudo-labels (context / background marked fg, body / part recall): synthetic sets
# carry SyntheticRegions/; other VOC-format roots skip them
label_metrics = [dict(type='SyntheticRegionStats')]
pseudo = dict(split='train', scales=(1.0, 1.5), flip=True, seed_bg_score=0.2,
              rule=dict(type='EPSRule', bg_score=0.2), use_saliency=False,
              crf=dict(iterations=10, pos_w=3, pos_xy_std=1, bi_w=4, bi_xy_std=67, bi_rgb_std=3),
              num_workers=2)
