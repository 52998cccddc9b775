"""CAM stage: train a CAM classifier (plain CAM, EPS, SeeNet, EPS+SeeNet: one model, the head chosen by the
config); ``coverage`` measures its seeds on the synthetic set's regions."""
