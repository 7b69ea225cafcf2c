import ArgumentParser
import AgentServer
import GoedgeConfiguration

/// The `goedge` command.
@main
struct GoEdge: AsyncParsableCommand {
    static let version = GoEdgeVersion.current

    static let configuration = CommandConfiguration(
        commandName: "goedge",
        abstract: "A per-host edge cache for Go modules.",
        discussion: """
            goedge speaks the GOPROXY protocol on this host and keeps a size-bounded cache of the \
            modules your builds download, fetching what is missing from an upstream proxy. Point the \
            go command at it with GOPROXY=http://127.0.0.1:7179,direct
            """,
        version: version,
        subcommands: [
            ServeCommand.self, PrefetchCommand.self, WatchCommand.self, StatusCommand.self, CacheCommand.self, ConfigCommand.self,
            PolicyCommand.self,
        ],
        defaultSubcommand: nil
    )
}
