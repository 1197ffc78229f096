#!/usr/bin/env bash
# Joint compression + classification (hocon/experiments/joint): plain end-to-end cross-entropy training against the
# three steps (latent screening, E2E with augmentation consistency, deployment at several rates by truncating ŷ);
# regenerates docs/results-joint.md and its plots from the run folders (nothing in it is typed by hand).
#
#   scripts/joint.sh            # train what has no classification.json yet, then the report
#   scripts/joint.sh --report   # only regenerate docs/results-joint.md from runs/joint (or, when it holds no run,
#                               # from the inputs the report archived in docs/results-joint-plots/runs)
#   scripts/joint.sh --jobs 2   # both at once (the configs use one torch thread each)
#
# Measured on this 2-core machine with --jobs 2: plain-e2e 6 min, three-step 11 min.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
report_only=0; jobs=1; dir=hocon/experiments/joint; out=runs/joint; doc=docs/results-joint.md
while [[ $# -gt 0 ]]; do
  case "$1" in
    --report) report_only=1 ;;
    --jobs)
      shift
      if [[ ! "${1:-}" =~ ^[1-9][0-9]*$ ]]; then echo "joint.sh: --jobs needs a whole number >= 1 (got '${1:-}')" >&2; exit 2; fi
      jobs=$1 ;;
    *) echo "joint.sh: unknown argument '$1' (--report, --jobs N)" >&2; exit 2 ;;
  esac
  shift
done
runs=(plain-e2e three-step)
if [[ $report_only == 0 ]]; then
  ./cofusfl --version > /dev/null # build once, before lanes start
  todo=()
  for r in "${runs[@]}"; do [[ -f "$out/$r/classification.json" ]] || todo+=("$r"); done
  mkdir -p "$out"
  pids=()
  for ((lane = 0; lane < jobs; lane++)); do
    (
      for ((i = lane; i < ${#todo[@]}; i += jobs)); do
        r=${todo[$i]}
        echo "joint: training $r (log: $out/$r.log)"
        rm -rf "$out/$r"
        ./cofusfl codec train "$dir/$r.conf" -D cofusfl.codec-training.out="$out/$r" > "$out/$r.log" 2>&1 || { echo "joint: $r failed (see $out/$r.log)" >&2; exit 1; }
      done
    ) &
    pids+=($!)
  done
  failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [[ $failed == 0 ]] || exit 1
fi
# The report keeps its inputs (small files) beside the document: with --report and no finished run in $out, they are
# read from there, so a clean checkout regenerates the document too.
archive="${doc%.md}-plots/runs"
if [[ $report_only == 1 ]] && ! compgen -G "$out/*/classification.json" > /dev/null && [[ -d "$archive" ]]; then
  echo "joint: no finished run in $out; reading the report's archived inputs in $archive"
  out="$archive"
fi
present=()
for r in "${runs[@]}"; do [[ -f "$out/$r/classification.json" ]] && present+=("$out/$r"); done
if [[ ${#present[@]} -eq 0 ]]; then echo "joint: no finished run in $out" >&2; exit 1; fi
./cofusfl report "${present[@]}" --kind classification --out "$doc" --title "Joint compression + classification: one encoder, several rates ($dir)"
