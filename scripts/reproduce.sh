#!/usr/bin/env bash
# Reproduces CoF U-SFL's communication experiment (hocon/experiments/paper) and regenerates docs/results.md
# and its plots from the run folders: nothing in that document is typed by hand.
#
#   scripts/reproduce.sh            # run what has no summary.json yet, then the report
#   scripts/reproduce.sh --force    # run everything again
#   scripts/reproduce.sh --report   # only regenerate docs/results.md from runs/paper (or, when it holds no run, from
#                                   # the inputs the report archived in docs/results-plots/runs)
#   scripts/reproduce.sh --gpu      # the q1-scale variant (hocon/experiments/paper/gpu, runs/paper-gpu)
#   scripts/reproduce.sh --jobs 2   # two runs at a time (the 2-core configs use one torch thread each)
#
# Each run takes 30-60 minutes on one core of this 2-core machine (4000 client steps).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
force=0; report_only=0; jobs=1; dir=hocon/experiments/paper; out=runs/paper; doc=docs/results.md; extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) force=1 ;;
    --report) report_only=1 ;;
    --gpu) dir=hocon/experiments/paper/gpu; out=runs/paper-gpu; doc=docs/results-gpu.md; extra=(-D cofusfl.torch.device=cuda) ;;
    --jobs)
      shift
      if [[ ! "${1:-}" =~ ^[1-9][0-9]*$ ]]; then echo "reproduce.sh: --jobs needs a whole number >= 1 (got '${1:-}')" >&2; exit 2; fi
      jobs=$1 ;;
    *) echo "reproduce.sh: unknown argument '$1' (--force, --report, --gpu, --jobs N)" >&2; exit 2 ;;
  esac
  shift
done
# The order matters only for what is there first when time runs out: the baseline, the headline, then the sweep.
runs=(usfl-float32 cof-full cof-full-step2 cof-features cof-full-beta4 cof-full-beta0p25 cof-full-beta0p0625 cof-full-beta0 cof-full-gain16 cof-full-beta0-gain16 cof-full-beta0p0625-gain16)
if [[ $report_only == 0 ]]; then
  ./cofusfl --version > /dev/null # build once, before lanes start
  todo=()
  for r in "${runs[@]}"; do
    if [[ $force == 0 && -f "$out/$r/summary.json" ]]; then echo "reproduce: $r done already ($out/$r)"; continue; fi
    todo+=("$r")
  done
  # Run i goes to lane i mod jobs; each lane runs its share one after another, its output in $out/RUN.log.
  mkdir -p "$out"
  pids=()
  for ((lane = 0; lane < jobs; lane++)); do
    (
      for ((i = lane; i < ${#todo[@]}; i += jobs)); do
        r=${todo[$i]}
        echo "reproduce: running $r (log: $out/$r.log)"
        rm -rf "$out/$r"
        ./cofusfl run "$dir/$r.conf" --out "$out/$r" "${extra[@]}" > "$out/$r.log" 2>&1 || { echo "reproduce: $r failed (see $out/$r.log)" >&2; exit 1; }
      done
    ) &
    pids+=($!)
  done
  failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [[ $failed == 0 ]] || exit 1
fi
kodak_dir() { ./cofusfl config resolve "$dir/common.conf" --json --with-reference | python3 -c 'import json,sys,os; c=json.load(sys.stdin)["cofusfl"]; print(os.path.join(c["data"]["root"], c["evaluation"]["dataset"]))'; }
ref="$out/codec-reference"
if [[ $report_only == 0 && ( $force == 1 || ! -f "$ref/kodak.json" ) && -f "$dir/codec-reference.conf" ]]; then
  echo "reproduce: codec-only reference (codec train of the same model and steps)"
  ./cofusfl codec train "$dir/codec-reference.conf" -D cofusfl.codec-training.out="$ref" "${extra[@]}"
  ./cofusfl codec eval --model "$ref/codec.safetensors" --dataset "$(kodak_dir)" --out "$ref/kodak.json" > /dev/null
fi
# Each CoF run with adaptive features once more on Kodak, its split features rounded at inference by its learned gains
# (the codec as it was trained): the report compares it with the default evaluation.
for r in "${runs[@]}"; do
  f="$out/$r"
  [[ $report_only == 0 && -f "$f/summary.json" && -f "$f/checkpoints/latest.safetensors" && ! -f "$f/kodak-split-quantized.json" ]] || continue
  grep -q '"adaptive"' "$f/config.conf" || continue
  echo "reproduce: $r evaluated with its split quantization"
  ./cofusfl codec eval --model "$f/codec.safetensors" --dataset "$(kodak_dir)" --split-quantization "$f/checkpoints/latest.safetensors" --out "$f/kodak-split-quantized.json" > /dev/null
done
# The report keeps its inputs (small files) beside the document: with --report and no finished run in $out, they are
# read from there, so a clean checkout regenerates the document too.
archive="${doc%.md}-plots/runs"
if [[ $report_only == 1 ]] && ! compgen -G "$out/*/summary.json" > /dev/null && [[ -d "$archive" ]]; then
  echo "reproduce: no finished run in $out; reading the report's archived inputs in $archive"
  out="$archive"; ref="$archive/codec-reference"
fi
present=()
for r in "${runs[@]}"; do [[ -f "$out/$r/summary.json" ]] && present+=("$out/$r"); done
if [[ ${#present[@]} -eq 0 ]]; then echo "reproduce: no finished run in $out" >&2; exit 1; fi
reference=()
[[ -f "$ref/kodak.json" ]] && reference=(--codec-reference "$ref/kodak.json")
./cofusfl report "${present[@]}" --out "$doc" --title "CoF U-SFL reproduction ($dir)" "${reference[@]}"
