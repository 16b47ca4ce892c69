#!/usr/bin/env bash
# Run every benchmark: prediction vs the transformers pipeline, corpus + dataset build scaling,
# training cost and torchrun scale-out, make demo end to end. The default sizes fit 2 CPU cores
# in about 15 minutes; --quick is a smoke run (under 2 minutes); --dry-run only lists the steps.
#   benchmarks/run.sh [--quick] [--dry-run] [--model DIR] [--docs N] [--sizes N,N] [--epochs E]
# Defaults: --docs 200 (prediction), --sizes 1000,10000 (build), --epochs 1 (transformer training);
# --quick: 20, 50,100 and 0.1 without torchrun and make demo. E.g. the 100k point of the build:
#   benchmarks/run.sh --sizes 1000,10000,100000   (about 6 more minutes on 2 cores)
# --model: a run folder with a transformer ner/ (default: training/runs/transformer if trained,
# else training/runs/bench, trained here for 0.1 epoch: enough for throughput, not for F1).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
TRADEIE=${TRADEIE:-.venv/bin/tradeie}
MODEL=""
QUICK=0
DRY=0
DOCS=""
SIZES=""
EPOCHS=""
usage() { echo "benchmarks/run.sh: $1 (fix: use --quick, --dry-run, --model DIR, --docs N, --sizes N,N or --epochs E)" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --dry-run) DRY=1 ;;
    --model|--docs|--sizes|--epochs)
      [ $# -ge 2 ] || usage "$1 needs a value"
      case "$1" in --model) MODEL=$2 ;; --docs) DOCS=$2 ;; --sizes) SIZES=$2 ;; --epochs) EPOCHS=$2 ;; esac
      shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) usage "unknown option $1" ;;
  esac
  shift
done
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false OMP_NUM_THREADS=2

if [ "$QUICK" = 1 ]; then
  DOCS=${DOCS:-20}; SIZES=${SIZES:-50,100}; EPOCHS=${EPOCHS:-0.1}; SYSTEMS=rules; TRAIN_OPTS=--no-ddp; INT8=
else
  DOCS=${DOCS:-200}; SIZES=${SIZES:-1000,10000}; EPOCHS=${EPOCHS:-1}; SYSTEMS=rules,crf,crf-rules
  TRAIN_OPTS=--make-demo; INT8=--int8
fi
if [ -z "$MODEL" ]; then
  if [ -f training/runs/transformer/ner/config.json ]; then MODEL=training/runs/transformer; else MODEL=training/runs/bench; fi
fi
MODEL_STEP=true
if [ ! -f "$MODEL/ner/config.json" ]; then
  MODEL=training/runs/bench
  MODEL_STEP="$TRADEIE train ner --config training/ner.toml --set epochs=0.1 --set progress_bars=false --output $MODEL --overwrite"
fi
STEPS=(
  "[ -f corpus/documents.jsonl ] || $TRADEIE corpus build"
  "[ -d dist/dataset ] || $TRADEIE dataset build"
  "$MODEL_STEP"
  "$PY benchmarks/bench_predict.py --model $MODEL --docs $DOCS --systems $SYSTEMS $INT8"
  "$PY benchmarks/bench_build.py --sizes $SIZES --num-proc 2"
  "$PY benchmarks/bench_train.py --epochs $EPOCHS $TRAIN_OPTS"
)
for step in "${STEPS[@]}"; do
  [ "$step" = true ] && continue
  if [ "$DRY" = 1 ]; then echo "$step"; continue; fi
  echo "== $step (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  SECONDS=0
  bash -c "$step"
  echo "== done in ${SECONDS}s"
done
