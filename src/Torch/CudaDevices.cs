using System.Runtime.InteropServices;

namespace CoFUsfl.Torch;

/// <summary>
/// Names and memory of CUDA devices through the driver API (libcuda.so.1, present wherever a GPU is), so
/// the CPU build of the shim needs no CUDA headers. Empty where there is no driver.
/// </summary>
public static unsafe class CudaDevices
{
    public sealed record Info(int Index, string Name, long TotalMemoryBytes);

    public static IReadOnlyList<Info> List()
    {
        if (!NativeLibrary.TryLoad("libcuda.so.1", out var lib)) return [];
        try
        {
            if (!NativeLibrary.TryGetExport(lib, "cuInit", out var init) || !NativeLibrary.TryGetExport(lib, "cuDeviceGetCount", out var count)
                || !NativeLibrary.TryGetExport(lib, "cuDeviceGet", out var get) || !NativeLibrary.TryGetExport(lib, "cuDeviceGetName", out var name)
                || !NativeLibrary.TryGetExport(lib, "cuDeviceTotalMem_v2", out var mem))
                return [];
            if (((delegate* unmanaged<uint, int>)init)(0) != 0) return [];
            int n;
            if (((delegate* unmanaged<int*, int>)count)(&n) != 0) return [];
            var result = new List<Info>(n);
            var buffer = stackalloc byte[256];
            for (var i = 0; i < n; i++)
            {
                int dev;
                nuint bytes;
                if (((delegate* unmanaged<int*, int, int>)get)(&dev, i) != 0) continue;
                if (((delegate* unmanaged<byte*, int, int, int>)name)(buffer, 256, dev) != 0) continue;
                if (((delegate* unmanaged<nuint*, int, int>)mem)(&bytes, dev) != 0) bytes = 0;
                result.Add(new Info(i, Marshal.PtrToStringUTF8((IntPtr)buffer) ?? "?", (long)bytes));
            }
            return result;
        }
        finally
        {
            NativeLibrary.Free(lib);
        }
    }
}
