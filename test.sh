#!/usr/bin/env bash
# All tests: the same bootstrap as ./cofusfl, then every test project of the solution.
# Extra arguments go to dotnet test (for example: ./test.sh --filter FullyQualifiedName~Hocon).
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
source "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
RESULTS="$ROOT/.build/test-results"
rm -rf "$RESULTS"
set +e
dotnet test CoFUsfl.sln -c Release --nologo --logger "trx" --results-directory "$RESULTS" "$@"
rc=$?
set -e
# One closing line for every assembly together, counted from the TRX files.
python3 - "$RESULTS" <<'PY' || true
import sys, glob, xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/*.trx"):
    c = ET.parse(path).getroot().find(".//{*}Counters")
    if c is None: continue
    p += int(c.get("passed", 0)); f += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0))
    s += int(c.get("notExecuted", 0))
print(f"tests: {p} passed, {f} failed, {s} skipped")
PY
exit $rc
