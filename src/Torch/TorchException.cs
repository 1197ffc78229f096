using System.Runtime.InteropServices;
using CoFUsfl.Torch.Native;

namespace CoFUsfl.Torch;

/// <summary>An error reported by libtorch (its own message, e.g. a shape mismatch). The process stays alive.</summary>
public sealed class TorchException(string message) : Exception(message)
{
    internal static string LastError() => Marshal.PtrToStringUTF8(NativeMethods.cf_last_error()) ?? "unknown native error";

    internal static IntPtr Check(IntPtr handle) => handle == IntPtr.Zero ? throw new TorchException(LastError()) : handle;

    internal static void Check(int status)
    {
        if (status != 0) throw new TorchException(LastError());
    }
}
