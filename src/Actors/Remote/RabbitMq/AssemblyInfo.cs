using System.Runtime.CompilerServices;

// The wire format and reassembly are internal; their edge cases are specified by the cluster tests.
[assembly: InternalsVisibleTo("CoFUsfl.Cluster.Tests")]
