#!/usr/bin/env bash
# GPU check on a machine with a CUDA PyTorch install (no .NET SDK needed): builds the native shim
# against PyTorch's libtorch, then runs `cofusfl info` and the torch/step benchmarks on cuda with a
# carried .NET runtime. Usage: scripts/gpu-check.sh DOTNET_RUNTIME_TGZ APP_TGZ OUT_DIR
set -euo pipefail
rt=$1; app=$2; out=$3
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p /tmp/dn /tmp/app "$out"
tar xzf "$rt" -C /tmp/dn
tar xzf "$app" -C /tmp/app
torch_cmake=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"share","cmake"))')
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$out/torch.txt"
cmake -S "$root/native" -B /tmp/native-cuda -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_cmake" -DCAFFE2_USE_CUDNN=ON > "$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; exit 1; }
cmake --build /tmp/native-cuda -j 16 > "$out/build.log" 2>&1 || { grep -E "error" "$out/build.log" | head -40; exit 1; }
export COFUSFL_NATIVE_LIB=/tmp/native-cuda/libcofusfl_native.so
export LD_LIBRARY_PATH="$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))'):${LD_LIBRARY_PATH:-}"
export DOTNET_ROOT=/tmp/dn
cd /tmp/app
/tmp/dn/dotnet cofusfl.dll info --json | tee "$out/info.json"
/tmp/dn/dotnet cofusfl.dll bench torch --device cuda --json | tee "$out/bench-torch-cuda.jsonl"
/tmp/dn/dotnet cofusfl.dll bench step --device cuda --json | tee "$out/bench-step-cuda.jsonl"
/tmp/dn/dotnet cofusfl.dll bench torch --device cpu --json | tee "$out/bench-torch-cpu16.jsonl"
