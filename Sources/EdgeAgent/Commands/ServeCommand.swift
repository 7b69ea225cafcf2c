import ArgumentParser
import Foundation
import Logging
import Sync

/// `goedge serve`: run the agent.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the caching GOPROXY agent.",
        discussion: """
            Serves the GOPROXY protocol (list, .info, .mod, .zip, @latest) and passes checksum \
            database requests (/sumdb/…) through. Misses are fetched from the upstream list and \
            kept in a size-bounded LRU disk cache. Set GOPROXY=http://127.0.0.1:7179,direct in \
            the go command's environment. SIGTERM or SIGINT stop it after the responses in flight.
            """
    )

    @Option(help: ArgumentHelp(
        "Address to listen on: HOST:PORT, [IPv6]:PORT or unix:PATH. (default: 127.0.0.1:7179)",
        valueName: "address"))
    var listen: String?

    @Flag(help: "Allow --listen on an address that other hosts can reach (anything but loopback).")
    var allowRemote = false

    @Option(help: ArgumentHelp(
        "Upstream proxies in GOPROXY syntax: URLs joined by ',' (next on 404/410) or '|' (next on any error), "
            + "ending optionally in 'direct' or 'off' (goedge then answers 404). (default: https://proxy.golang.org)",
        valueName: "list"))
    var upstream: String?

    @Option(help: ArgumentHelp(
        "Cache folder. (default: $CACHE_DIRECTORY, else $XDG_CACHE_HOME/goedge, else ~/.cache/goedge)",
        valueName: "dir"))
    var cacheDir: String?

    @Option(help: ArgumentHelp(
        "Largest disk space the cache may use, e.g. 512MiB, 10GiB. (default: 10GiB)", valueName: "size"))
    var maxCacheSize: String?

    @Option(help: ArgumentHelp(
        "How long list, @latest and query .info answers are served before they are revalidated. (default: 5m)",
        valueName: "duration"))
    var metadataTtl: String?

    @Option(help: ArgumentHelp("How long 404 and 410 answers are remembered. (default: 1m)", valueName: "duration"))
    var notFoundTtl: String?

    @Option(help: ArgumentHelp(
        "How long checksum database 'latest' and 'supported' answers are kept. (default: 1m)", valueName: "duration"))
    var sumdbTtl: String?

    @Option(help: ArgumentHelp("Time allowed to connect to an upstream. (default: 10s)", valueName: "duration"))
    var connectTimeout: String?

    @Option(help: ArgumentHelp(
        "An upstream transfer that receives nothing for this long is abandoned. (default: 30s)", valueName: "duration"))
    var stallTimeout: String?

    @Option(help: ArgumentHelp(
        "On SIGTERM/SIGINT, how long responses in flight may take to finish. (default: 10s)", valueName: "duration"))
    var shutdownTimeout: String?

    @Option(help: ArgumentHelp(
        "Exit after this long with no connection, download or prefetch; 0 never exits. "
            + "(default: 5m when started by systemd socket activation, else 0)",
        valueName: "duration"))
    var idleTimeout: String?

    @Option(help: ArgumentHelp(
        "trace, debug, info (one line per request), notice, warning, error or critical. (default: info)",
        valueName: "level"))
    var logLevel: String?

    func resolve(environment: [String: String]) throws -> AgentConfiguration {
        let listen = try parse(listen, "--listen", ListenAddress.init(parsing:)) ?? AgentConfiguration.defaultListen
        if !listen.isLocalOnly && !allowRemote {
            throw ValidationError(
                "--listen \(listen) can be reached from other hosts; add --allow-remote if that is what you want")
        }
        let upstreams: UpstreamList
        do {
            upstreams = try UpstreamList(parsing: upstream ?? AgentConfiguration.defaultUpstream)
        } catch {
            throw ValidationError("--upstream: \(error)")
        }
        let maxCacheSize = try parse(maxCacheSize, "--max-cache-size", ByteSize.init(parsing:)) ?? AgentConfiguration.defaultMaxCacheSize
        // Below this the store's own folders leave no room for modules.
        guard maxCacheSize.bytes >= 64 << 10 else { throw ValidationError("--max-cache-size must be at least 64KiB") }
        let logLevel = try parse(logLevel, "--log-level", Logger.Level.init(rawValue:)) ?? .info
        let defaults = FreshnessPolicy()
        let clientDefaults = UpstreamClientConfiguration()
        var configuration = AgentConfiguration(
            listen: listen,
            upstreams: upstreams,
            cacheDirectory: cacheDir ?? AgentConfiguration.defaultCacheDirectory(environment: environment),
            maxCacheSize: maxCacheSize,
            logLevel: logLevel,
            freshness: FreshnessPolicy(
                moduleMetadataTTL: try duration(metadataTtl, "--metadata-ttl") ?? defaults.moduleMetadataTTL,
                notFoundTTL: try duration(notFoundTtl, "--not-found-ttl") ?? defaults.notFoundTTL,
                checksumDatabaseTTL: try duration(sumdbTtl, "--sumdb-ttl") ?? defaults.checksumDatabaseTTL),
            client: UpstreamClientConfiguration(
                connectTimeout: try duration(connectTimeout, "--connect-timeout") ?? clientDefaults.connectTimeout,
                stallTimeout: try duration(stallTimeout, "--stall-timeout") ?? clientDefaults.stallTimeout,
                netrcFile: environment["NETRC"],
                userAgent: "goedge/\(GoEdge.version)"),
            shutdownTimeout: try duration(shutdownTimeout, "--shutdown-timeout") ?? .seconds(10),
            idleTimeout: try duration(idleTimeout, "--idle-timeout").map { $0 == .zero ? .never : .after($0) }
                ?? .whenSocketActivated)
        configuration.listenWasGiven = self.listen != nil
        return configuration
    }

    private func parse<T>(_ text: String?, _ name: String, _ make: (String) -> T?) throws -> T? {
        guard let text else { return nil }
        guard let value = make(text) else { throw ValidationError("\(name): cannot understand \"\(text)\"") }
        return value
    }

    private func duration(_ text: String?, _ name: String) throws -> Duration? {
        try parse(text, name, DurationText.parse)
    }

    func run() async throws {
        let configuration = try resolve(environment: ProcessInfo.processInfo.environment)
        let environment = ProcessInfo.processInfo.environment
        let style = AgentLogHandler.style(environment: environment)
        LoggingSystem.bootstrap { _ in AgentLogHandler(level: configuration.logLevel, style: style) }
        try await Agent(configuration: configuration).run()
    }
}
