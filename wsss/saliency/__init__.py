from wsss.saliency import sources  # noqa: F401
