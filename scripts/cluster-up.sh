#!/usr/bin/env bash
# A whole cluster on this machine, for trying cluster mode: a private broker, N worker processes
# (`cofusfl node`) and the coordinator (`cofusfl run`), all on the same configuration; everything is
# stopped when the run ends (or on Ctrl-C).
#
#   scripts/cluster-up.sh N CONFIG [-D path=value]... [run options such as --out DIR]
#
# -D overrides go to every process; other options only to `cofusfl run`.
# The configuration must allow cluster mode (cofusfl.runtime.clock = real); this script sets
# cofusfl.cluster.enabled, min-nodes, broker.uri and the node names itself.
set -euo pipefail
shopt -s nullglob
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
[ $# -ge 2 ] || { echo "usage: scripts/cluster-up.sh N CONFIG [-D path=value]..." >&2; exit 2; }
N=$1; CONFIG=$2; shift 2
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "cluster-up: N must be a positive number of workers (got '$N')" >&2; exit 2; }
[ -f "$CONFIG" ] || { echo "cluster-up: no configuration file at $CONFIG" >&2; exit 2; }
"$ROOT/cofusfl" --version > /dev/null   # bootstrap (install/build) once, before the processes start
BROKER_DIR=$(mktemp -d /tmp/cofusfl-cluster-XXXXXX)
URI=$("$ROOT/scripts/broker.sh" start "$BROKER_DIR")
export COFUSFL_BROKER_USER=${COFUSFL_BROKER_USER:-cofusfl} COFUSFL_BROKER_PASSWORD=${COFUSFL_BROKER_PASSWORD:-cofusfl}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$ROOT/scripts/broker.sh" stop "$BROKER_DIR" > /dev/null 2>&1 || true
}
trap cleanup EXIT
defines=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -D) defines+=(-D "${args[i+1]:-}"); i=$((i + 1)) ;;
    -D*) defines+=("${args[i]}") ;;
  esac
done
common=(-D cofusfl.cluster.enabled=on -D "cofusfl.cluster.broker.uri=\"$URI\"" -D "cofusfl.cluster.min-nodes=$N")
for i in $(seq 1 "$N"); do
  "$ROOT/cofusfl" node --config "$CONFIG" "${common[@]}" -D "cofusfl.cluster.node.name=worker-$i" "${defines[@]}" > "$BROKER_DIR/worker-$i.log" 2>&1 &
  pids+=($!)
done
echo "cluster-up: broker $URI, $N workers (logs in $BROKER_DIR)" >&2
"$ROOT/cofusfl" run "$CONFIG" "${common[@]}" -D cofusfl.cluster.node.name=coordinator "$@"
