"""Saliency stage: ``train`` a salient-object model on a DUTS-layout split, ``infer`` its maps for a data set
(the folder a ``FolderSaliency`` source reads), ``evaluate`` a folder of maps (MAE, max F, S, mean E)."""
