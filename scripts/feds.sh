#!/usr/bin/env bash
# FEDS distillation (hocon/experiments/feds): a teacher, the student trained alone and the student distilled with FEDS,
# each at four λ; every codec evaluated on Kodak through real bitstreams; regenerates docs/results-feds.md and its
# plot from the run folders (nothing in it is typed by hand).
#
#   scripts/feds.sh            # train and evaluate what is missing, then the report
#   scripts/feds.sh --report   # only regenerate docs/results-feds.md from runs/feds (or, when it holds no run, from the
#                              # inputs the report archived in docs/results-feds-plots/runs)
#   scripts/feds.sh --jobs 2   # two trainings at a time (the configs use one torch thread each)
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"
# COFUSFL_CLI: the command to run instead of ./cofusfl (e.g. a frozen build, so editing the checkout does not rebuild under the runs).
cli=${COFUSFL_CLI:-./cofusfl}
report_only=0; jobs=1; dir=hocon/experiments/feds; out=runs/feds; doc=docs/results-feds.md
lambdas=(0.0067 0.013 0.025 0.0483)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --report) report_only=1 ;;
    --jobs)
      shift
      if [[ ! "${1:-}" =~ ^[1-9][0-9]*$ ]]; then echo "feds.sh: --jobs needs a whole number >= 1 (got '${1:-}')" >&2; exit 2; fi
      jobs=$1 ;;
    *) echo "feds.sh: unknown argument '$1' (--report, --jobs N)" >&2; exit 2 ;;
  esac
  shift
done
kodak_dir() { $cli config resolve "$dir/common.conf" --json --with-reference | python3 -c 'import json,sys,os; c=json.load(sys.stdin)["cofusfl"]; print(os.path.join(c["data"]["root"], c["evaluation"]["dataset"]))'; }
# One codec: train unless its checkpoint exists, then evaluate on Kodak unless kodak.json exists.
one() {
  local run=$1 lambda=$2 folder="$out/$1/lambda-$2"; shift 2
  if [[ ! -f "$folder/codec.safetensors" ]]; then
    echo "feds: training $run at λ = $lambda (log: $folder.log)"
    mkdir -p "$out/$run"
    $cli codec train "$dir/$run.conf" -D cofusfl.loss.lambda="$lambda" -D cofusfl.codec-training.out="$folder" "$@" > "$folder.log" 2>&1 \
      || { echo "feds: $run at λ = $lambda failed (see $folder.log)" >&2; return 1; }
  fi
  if [[ ! -f "$folder/kodak.json" ]]; then
    $cli codec eval --model "$folder/codec.safetensors" --dataset "$kodak" --out "$folder/kodak.json" > /dev/null \
      || { echo "feds: evaluating $folder failed" >&2; return 1; }
  fi
}
# Runs the commands of one phase, jobs at a time.
phase() {
  local -a items=("$@") pids=()
  for ((lane = 0; lane < jobs; lane++)); do
    ( for ((i = lane; i < ${#items[@]}; i += jobs)); do eval "${items[$i]}" || exit 1; done ) &
    pids+=($!)
  done
  local failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  return $failed
}
if [[ $report_only == 0 ]]; then
  $cli --version > /dev/null # build once, before lanes start
  kodak=$(kodak_dir)
  # Phase 1: the teachers (the long ones first) and the students trained alone; phase 2: FEDS, each from its λ's teacher.
  first=(); for l in "${lambdas[@]}"; do first+=("one teacher $l"); done; for l in "${lambdas[@]}"; do first+=("one student $l"); done
  phase "${first[@]}"
  second=(); for l in "${lambdas[@]}"; do second+=("one feds $l -D cofusfl.codec-training.teacher=$out/teacher/lambda-$l/codec.safetensors"); done
  phase "${second[@]}"
fi
archive="${doc%.md}-plots/runs"
if [[ $report_only == 1 ]] && ! compgen -G "$out/*/lambda-*/kodak.json" > /dev/null && [[ -d "$archive" ]]; then
  echo "feds: no finished run in $out; reading the report's archived inputs in $archive"
  out="$archive"
fi
present=()
for r in teacher student feds; do compgen -G "$out/$r/lambda-*/kodak.json" > /dev/null && present+=("$out/$r"); done
if [[ ${#present[@]} -eq 0 ]]; then echo "feds: no finished codec in $out" >&2; exit 1; fi
$cli report "${present[@]}" --kind distillation --out "$doc" --title "FEDS: distilling a lightweight student from a high-capacity teacher ($dir)"
