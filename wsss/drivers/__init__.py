"""Experiment drivers: the README demo and the method x saliency ablation call the stages in order and draw
the tables; they own nothing a stage does."""
