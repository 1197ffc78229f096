#!/usr/bin/env bash
# Reproduces CoF U-SFL's communication experiment (hocon/experiments/paper) and regenerates docs/results.md
# and its plots from the run folders: nothing in that document is typed by hand.
#
#   scripts/reproduce.sh            # run what has no summary.json yet, then the report
#   scripts/reproduce.sh --force    # run everything again
#   scripts/reproduce.sh --report   # only regenerate docs/results.md from runs/paper
#   scripts/reproduce.sh --gpu      # the q1-scale variant (hocon/experiments/paper/gpu, runs/paper-gpu)
#
# Each 2-core run takes about 20-30 minutes (4000 client steps); all six about 2.5 hours.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
force=0; report_only=0; dir=hocon/experiments/paper; out=runs/paper; doc=docs/results.md; extra=()
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --report) report_only=1 ;;
    --gpu) dir=hocon/experiments/paper/gpu; out=runs/paper-gpu; doc=docs/results-gpu.md; extra=(-D cofusfl.torch.device=cuda) ;;
    *) echo "reproduce.sh: unknown argument '$a' (--force, --report, --gpu)" >&2; exit 2 ;;
  esac
done
# The order matters only for what is there first when time runs out: the baseline, the headline, then the sweep.
runs=(usfl-float32 cof-full cof-full-step2 cof-features cof-full-beta4 cof-full-beta0p25 cof-full-beta0p0625)
if [[ $report_only == 0 ]]; then
  for r in "${runs[@]}"; do
    if [[ $force == 0 && -f "$out/$r/summary.json" ]]; then echo "reproduce: $r done already ($out/$r)"; continue; fi
    echo "reproduce: running $r"
    ./cofusfl run "$dir/$r.conf" --out "$out/$r" "${extra[@]}"
  done
fi
ref="$out/codec-reference"
if [[ $report_only == 0 && ( $force == 1 || ! -f "$ref/kodak.json" ) && -f "$dir/codec-reference.conf" ]]; then
  echo "reproduce: codec-only reference (codec train of the same model and steps)"
  ./cofusfl codec train "$dir/codec-reference.conf" -D cofusfl.codec-training.out="$ref" "${extra[@]}"
  ./cofusfl codec eval --model "$ref/codec.safetensors" --dataset "$(./cofusfl config resolve "$dir/common.conf" --json --with-reference | python3 -c 'import json,sys,os; c=json.load(sys.stdin)["cofusfl"]; print(os.path.join(c["data"]["root"], c["evaluation"]["dataset"]))')" --out "$ref/kodak.json" > /dev/null
fi
present=()
for r in "${runs[@]}"; do [[ -f "$out/$r/summary.json" ]] && present+=("$out/$r"); done
if [[ ${#present[@]} -eq 0 ]]; then echo "reproduce: no finished run in $out" >&2; exit 1; fi
reference=()
[[ -f "$ref/kodak.json" ]] && reference=(--codec-reference "$ref/kodak.json")
./cofusfl report "${present[@]}" --out "$doc" --title "CoF U-SFL reproduction ($dir)" "${reference[@]}"
