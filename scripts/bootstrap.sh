#!/usr/bin/env bash
# Makes this checkout runnable: system packages, the native libtorch shim, the .NET build.
# Sourced by ./cofusfl and ./test.sh. Idempotent and quiet when nothing changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG="$ROOT/.build/bootstrap.log"
mkdir -p "$ROOT/.build"

# Debian packages the build and the tests need. rabbitmq-server is for cluster mode and its tests.
APT_PACKAGES=(libtorch-dev libturbojpeg0-dev protobuf-compiler cmake g++ make rabbitmq-server)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "cofusfl: installing ${missing[*]} (apt-get, one time)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >>"$LOG" 2>&1
    # The broker must not start as a side effect of installing it; tests start their own.
    if printf '%s\n' "${missing[@]}" | grep -q rabbitmq-server && [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1 \
      || { echo "cofusfl: apt-get install failed; see $LOG" >&2; exit 1; }
  else
    echo "cofusfl: missing system packages. Run as root:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
command -v dotnet >/dev/null || { echo "cofusfl: the .NET 10 SDK is required (dotnet on PATH)" >&2; exit 1; }

# Native shim: configure once, then an incremental build (a no-op when unchanged).
NATIVE_BUILD="${COFUSFL_NATIVE_BUILD:-$ROOT/native/build}"
if [ ! -f "$NATIVE_BUILD/CMakeCache.txt" ]; then
  echo "cofusfl: configuring native/ (libtorch ${TORCH_DIR:-from Debian})..." >&2
  cmake -S "$ROOT/native" -B "$NATIVE_BUILD" -DCMAKE_BUILD_TYPE=Release ${TORCH_DIR:+-DCMAKE_PREFIX_PATH="$TORCH_DIR"} >>"$LOG" 2>&1 \
    || { echo "cofusfl: native configure failed; see $LOG" >&2; exit 1; }
fi
if [ -n "$(find "$ROOT/native" -path "$NATIVE_BUILD" -prune -o \( -name '*.cpp' -o -name '*.h' -o -name CMakeLists.txt \) -newer "$NATIVE_BUILD/libcofusfl_native.so" -print -quit 2>/dev/null)" ] \
   || [ ! -f "$NATIVE_BUILD/libcofusfl_native.so" ]; then
  echo "cofusfl: building native/ ..." >&2
  cmake --build "$NATIVE_BUILD" -j "$(nproc)" >>"$LOG" 2>&1 || { echo "cofusfl: native build failed; see $LOG" >&2; tail -30 "$LOG" >&2; exit 1; }
fi
export COFUSFL_NATIVE_LIB="$NATIVE_BUILD/libcofusfl_native.so"

# .NET: rebuild the CLI when any source, project or config file is newer than the last build.
CLI_DLL="$ROOT/src/Cli/bin/Release/net10.0/cofusfl.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
if [ ! -f "$CLI_DLL" ] || [ -n "$(find "$ROOT/src" "$ROOT/bench" "$ROOT/hocon" "$ROOT/Directory.Build.props" "$ROOT/Directory.Packages.props" \
      \( -name bin -o -name obj \) -prune -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.proto' -o -name '*.conf' -o -name '*.props' \) \
      -newer "$CLI_DLL" -print -quit)" ]; then
  echo "cofusfl: building (dotnet build -c Release)..." >&2
  dotnet build "$ROOT/src/Cli/CoFUsfl.Cli.csproj" -c Release -nologo -v q >>"$LOG" 2>&1 \
    || { echo "cofusfl: build failed:" >&2; grep -E 'error' "$LOG" | sort -u | tail -20 >&2; exit 1; }
  touch "$CLI_DLL"
fi
