using System.Collections.Concurrent;
using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace CoFUsfl.Actors;

/// <summary>
/// Finds the parser of a payload by its Protobuf full name (<c>package.Message</c>), the name the envelope carries.
/// Types can be registered explicitly; an unknown name triggers one scan of the assemblies loaded since the last scan
/// for generated message types, so messages defined in other projects are found without registration.
/// </summary>
public sealed class MessageRegistry
{
    private readonly ConcurrentDictionary<string, MessageDescriptor> _byName = new(StringComparer.Ordinal);
    private readonly HashSet<Assembly> _scanned = [];
    private readonly object _scanLock = new();

    /// <summary>The registry every system uses unless given another.</summary>
    public static MessageRegistry Default { get; } = new();

    /// <summary>Registers one message type.</summary>
    public void Register(MessageDescriptor descriptor) => _byName[descriptor.FullName] = descriptor;

    /// <summary>Registers one generated message type.</summary>
    public void Register<T>() where T : IMessage<T>, new() => Register(new T().Descriptor);

    /// <summary>Registers every message of a generated file (e.g. <c>EnvelopeReflection.Descriptor</c>), nested types included.</summary>
    public void Register(FileDescriptor file)
    {
        foreach (var m in file.MessageTypes) RegisterTree(m);
    }

    private void RegisterTree(MessageDescriptor m)
    {
        if (m.ClrType is not null) Register(m);
        foreach (var n in m.NestedTypes) RegisterTree(n);
    }

    /// <summary>The descriptor of <paramref name="fullName"/>, scanning newly loaded assemblies on a miss.</summary>
    public bool TryGet(string fullName, out MessageDescriptor descriptor)
    {
        if (_byName.TryGetValue(fullName, out descriptor!)) return true;
        ScanLoadedAssemblies();
        return _byName.TryGetValue(fullName, out descriptor!);
    }

    private void ScanLoadedAssemblies()
    {
        lock (_scanLock)
        {
            foreach (var asm in AppDomain.CurrentDomain.GetAssemblies())
            {
                if (asm.IsDynamic || !_scanned.Add(asm)) continue;
                if (!ReferencesProtobuf(asm)) continue;
                Type[] types;
                try { types = asm.GetTypes(); }
                catch (ReflectionTypeLoadException e) { types = [.. e.Types.Where(t => t is not null).Cast<Type>()]; }
                foreach (var t in types)
                {
                    if (t.IsAbstract || t.IsGenericTypeDefinition || !typeof(IMessage).IsAssignableFrom(t)) continue;
                    var p = t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static);
                    if (p?.GetValue(null) is MessageDescriptor d) _byName.TryAdd(d.FullName, d);
                }
            }
        }
    }

    private static bool ReferencesProtobuf(Assembly asm)
    {
        if (asm == typeof(IMessage).Assembly) return false;
        try { return asm.GetReferencedAssemblies().Any(a => a.Name == "Google.Protobuf"); }
        catch (Exception) { return false; }
    }
}
