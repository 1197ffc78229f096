using System.CommandLine;
using CoFUsfl.Cli;

var root = new RootCommand("cofusfl: U-shaped split federated learning of learned image codecs with compact features (CoF U-SFL).");
foreach (var command in CommandCatalog.Discover())
    root.Subcommands.Add(command);
return CliErrors.Invoke(root, args);
