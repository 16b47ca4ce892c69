#!/usr/bin/env bash
# Run every benchmark: prediction vs the transformers pipeline, corpus + dataset build scaling,
# training cost and torchrun scale-out. Sizes fit 2 CPU cores in under 15 minutes;
# --quick is a smoke run (under 2 minutes); --dry-run only lists the steps.
#   benchmarks/run.sh [--quick] [--dry-run] [--model training/runs/demo]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
TRADEIE=${TRADEIE:-.venv/bin/tradeie}
MODEL=training/runs/demo
QUICK=0
DRY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --dry-run) DRY=1 ;;
    --model) MODEL=$2; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "benchmarks/run.sh: unknown option $1 (fix: use --quick, --dry-run or --model DIR)" >&2; exit 2 ;;
  esac
  shift
done
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=2

if [ "$QUICK" = 1 ]; then
  DOCS=20; SIZES=50,100; EPOCHS=0.1; SYSTEMS=rules; DDP=--no-ddp
else
  DOCS=1000; SIZES=1000,10000; EPOCHS=2; SYSTEMS=rules,crf,crf-rules; DDP=
fi
MODEL_STEP=""
if [ ! -f "$MODEL/ner/config.json" ]; then
  MODEL=training/runs/bench
  MODEL_STEP="$TRADEIE train ner --config training/ner.toml --set epochs=$EPOCHS --set progress_bars=false --output $MODEL --overwrite"
fi
STEPS=(
  "[ -f corpus/documents.jsonl ] || $TRADEIE corpus build"
  "[ -d dist/dataset ] || $TRADEIE dataset build"
  "${MODEL_STEP:-true}"
  "$PY benchmarks/bench_predict.py --model $MODEL --docs $DOCS --systems $SYSTEMS $([ "$QUICK" = 1 ] || echo --int8)"
  "$PY benchmarks/bench_build.py --sizes $SIZES --num-proc 2"
  "$PY benchmarks/bench_train.py --epochs $EPOCHS $DDP"
)
for step in "${STEPS[@]}"; do
  [ "$step" = true ] && continue
  if [ "$DRY" = 1 ]; then echo "$step"; continue; fi
  echo "== $step"
  SECONDS=0
  bash -c "$step"
  echo "== done in ${SECONDS}s"
done
