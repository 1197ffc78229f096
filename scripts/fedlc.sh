#!/usr/bin/env bash
# FedLC on a non-IID split (hocon/experiments/fedlc): a shared entropy model, the latent's entropy model per client
# on the split server, and local-only training; regenerates docs/results-fedlc.md from the run folders (nothing in it
# is typed by hand).
#
#   scripts/fedlc.sh            # run what has no summary.json yet, then the report
#   scripts/fedlc.sh --report   # only regenerate docs/results-fedlc.md from runs/fedlc (or docs/results-fedlc-runs)
#   scripts/fedlc.sh --jobs 2   # two runs at a time (the configs use one torch thread each)
#
# Each run takes 25-35 minutes on one core of this 2-core machine (3000 client steps).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
report_only=0; jobs=1; dir=hocon/experiments/fedlc; out=runs/fedlc; doc=docs/results-fedlc.md
while [[ $# -gt 0 ]]; do
  case "$1" in
    --report) report_only=1 ;;
    --jobs)
      shift
      if [[ ! "${1:-}" =~ ^[1-9][0-9]*$ ]]; then echo "fedlc.sh: --jobs needs a whole number >= 1 (got '${1:-}')" >&2; exit 2; fi
      jobs=$1 ;;
    *) echo "fedlc.sh: unknown argument '$1' (--report, --jobs N)" >&2; exit 2 ;;
  esac
  shift
done
runs=(shared server-personal local-only)
if [[ $report_only == 0 ]]; then
  ./cofusfl --version > /dev/null # build once, before lanes start
  todo=()
  for r in "${runs[@]}"; do [[ -f "$out/$r/summary.json" ]] || todo+=("$r"); done
  mkdir -p "$out"
  pids=()
  for ((lane = 0; lane < jobs; lane++)); do
    (
      for ((i = lane; i < ${#todo[@]}; i += jobs)); do
        r=${todo[$i]}
        echo "fedlc: running $r (log: $out/$r.log)"
        rm -rf "$out/$r"
        ./cofusfl run "$dir/$r.conf" --out "$out/$r" > "$out/$r.log" 2>&1 || { echo "fedlc: $r failed (see $out/$r.log)" >&2; exit 1; }
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
archive="${doc%.md}-runs"
if [[ $report_only == 1 ]] && ! compgen -G "$out/*/summary.json" > /dev/null && [[ -d "$archive" ]]; then
  echo "fedlc: no finished run in $out; reading the report's archived inputs in $archive"
  out="$archive"
fi
present=()
for r in "${runs[@]}"; do [[ -f "$out/$r/summary.json" ]] && present+=("$out/$r"); done
if [[ ${#present[@]} -eq 0 ]]; then echo "fedlc: no finished run in $out" >&2; exit 1; fi
./cofusfl report "${present[@]}" --kind personalization --out "$doc" --title "FedLC: personalized entropy models on a non-IID split ($dir)"
