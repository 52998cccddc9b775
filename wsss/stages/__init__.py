"""The pipeline's stages, one package each, every one with the same shape: modules ``train`` / ``infer`` /
``make`` / ``evaluate`` whose ``run(cfg, ...)`` reads files, writes files and a run record (``metrics.json``,
:mod:`wsss.engine.records`) into its output folder, resumes where it stopped and never leaves half files.

=========  ======================================  ===========================================================
stage      modules (``run``)                       writes
=========  ======================================  ===========================================================
saliency   ``train``, ``infer``, ``evaluate``      ``final.pth``; ``<data_root>/saliency/<name>/<id>.png``; scores
cam        ``train`` (+ ``coverage``)              ``final.pth`` of the CAM classifier
pseudo     ``make``, ``evaluate``                  ``seed/``, ``nocrf/``, ``crf/`` palette PNGs + their mIoU
seg        ``train``, ``evaluate``                 ``final.pth`` of the segmenter, val mIoU, test-server PNGs
=========  ======================================  ===========================================================

The tools in ``tools/`` parse arguments, load the config and call one ``run``; the drivers in
:mod:`wsss.drivers` (demo, ablation) call stages in order.
"""
