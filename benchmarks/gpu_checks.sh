#!/usr/bin/env bash
# The GPU-only checks, as one short prepared script (run on a lent CUDA machine from the repo root):
#   CUDA training steps of every stage, AMP (bf16) + channels-last vs fp32 throughput and peak memory,
#   the NCCL launcher path (torchrun), CUDA pseudo-labels and saliency inference.
# Results (JSON) go to ${OUT:-bench_out}; copy the figures into benchmarks/RESULTS.md with the card's name.
set -uo pipefail
OUT=${OUT:-bench_out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
if ! python3 -c 'import mmengine' 2>/dev/null && ls .whl/*.whl >/dev/null 2>&1; then  # carried wheels
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site:$PYTHONPATH
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__)' | tee -a "$OUT/gpu.txt"
step() { echo "== $*"; local t=$SECONDS; timeout "${STEP_TIMEOUT:-240}" "$@"; echo "== rc=$? in $((SECONDS - t)) s"; }
# 1. segmenter training throughput: fp32 vs AMP + channels-last (DeepLab-v2 R101 and SANet R101, crop 321, batch 10)
step python3 benchmarks/bench_seg_train.py --device cuda --iters 15 --json "$OUT/seg_deeplabv2.json"
step python3 benchmarks/bench_seg_train.py --device cuda --iters 15 --model configs/seg/sanet_r101_voc.py \
  --json "$OUT/seg_sanet.json"
# 2. the real tools on CUDA, NCCL via torchrun, on a small synthetic set (no pretrained file, no CRF on the GPU box)
step python3 tools/make_synthetic_voc.py /tmp/syn --num-train 64 --num-val 16 --num-sod 16 --quiet
NOPRE="data_root=/tmp/syn model.backbone.pretrained=None train_cfg.num_workers=4"
step torchrun --nproc_per_node 1 tools/train_cam.py configs/cam/eps_seenet_lite0_synthetic.py --work-dir /tmp/w/cam \
  --cfg-options $NOPRE train_cfg.max_iters=40 optim_wrapper.type=AmpOptimWrapper optim_wrapper.dtype=bfloat16
step python3 tools/make_pseudo.py configs/cam/eps_seenet_lite0_synthetic.py --checkpoint /tmp/w/cam/final.pth \
  --out-dir /tmp/w/pseudo --no-crf --num-workers 1 --cfg-options $NOPRE
step torchrun --nproc_per_node 1 tools/train_seg.py configs/seg/deeplabv2_lite0_synthetic.py --work-dir /tmp/w/seg \
  --cfg-options $NOPRE label_dir=/tmp/w/pseudo/nocrf train_cfg.max_iters=40 train_cfg.channels_last=True \
  optim_wrapper.type=AmpOptimWrapper optim_wrapper.dtype=bfloat16
grep -h "img_per_s" /tmp/w/*/train.log | tail -4 > "$OUT/tools_tail.txt"
cp /tmp/w/seg/metrics.json "$OUT/seg_metrics.json" 2>/dev/null
# 2b. dense CRF: the torch backend on CUDA (500x375, 21 labels) vs pydensecrf on one core, parity on the same image
step python3 benchmarks/bench_crf.py --device cuda --out "$OUT/crf.json"
# 3. saliency inference throughput: AMP vs fp32, batched vs one at a time
if [ -n "${WITH_SALIENCY:-}" ]; then
  step python3 benchmarks/bench_saliency.py --device cuda --json "$OUT/saliency.json"
fi
ls -la "$OUT"
