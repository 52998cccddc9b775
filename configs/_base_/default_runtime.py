# Top-level keys every stage reads; override any of them with --cfg-options key=value.
data_root = 'data/synthetic_voc'   # a VOC-format folder (JPEGImages, SegmentationClass, ImageSets/Segmentation)
saliency_dir = 'saliency/good'     # <data_root>/<saliency_dir>/<id>.png, or an absolute folder
label_dir = None                   # segmenter training labels (pseudo-labels or SegmentationClass)
