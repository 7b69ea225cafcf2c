import LRUCache
import Logging
import Sync

/// Everything `goedge serve` needs, resolved from defaults and options.
struct AgentConfiguration {
    var listen: ListenAddress
    /// Whether the listen address was asked for (rather than the default).
    var listenWasGiven: Bool
    var upstreams: UpstreamList
    var cacheDirectory: String
    var maxCacheSize: ByteSize
    var logLevel: Logger.Level
    var freshness: FreshnessPolicy
    var client: UpstreamClientConfiguration
    /// How long SIGTERM waits for responses in flight.
    var shutdownTimeout: Duration
    var idleTimeout: IdleTimeout
    var readAhead: Bool
    /// Background downloads at once (prefetch and read-ahead).
    var prefetchConcurrency: Int
    /// Who may use the control API and prefetch.
    var controlHosts: [HostPattern]

    static let defaultListen = ListenAddress(host: "127.0.0.1", port: 7179)
    static let defaultUpstream = "https://proxy.golang.org"
    static let defaultMaxCacheSize = ByteSize(bytes: 10 << 30)
    /// When to exit for lack of work.
    enum IdleTimeout: Equatable {
        /// After five minutes, but only when started by socket activation
        /// (the next connection starts goedge again); never otherwise.
        case whenSocketActivated
        case never
        case after(Duration)

        static let socketActivatedDefault = Duration.seconds(300)

        func duration(socketActivated: Bool) -> Duration? {
            switch self {
            case .whenSocketActivated: socketActivated ? Self.socketActivatedDefault : nil
            case .never: nil
            case .after(let duration): duration
            }
        }
    }

    /// Builds the agent's configuration from the settings in effect.
    init(layers: ConfigurationLayers, environment: [String: String]) throws(ConfigurationError) {
        let home = environment["HOME"] ?? "/"
        listen = layers.string(Settings.listen).flatMap(ListenAddress.init(parsing:)) ?? Self.defaultListen
        listenWasGiven = layers.value(Settings.listen) != nil
        if !listen.isLocalOnly && layers.boolean(Settings.allowRemote) != true {
            let source = layers.value(Settings.listen)?.source.description ?? "default"
            throw ConfigurationError([
                "listen = \"\(listen)\" (\(source)) can be reached from other hosts; set allow-remote "
                    + "(--allow-remote) if that is what you want"
            ])
        }
        // Checked when loaded: it parses.
        upstreams = try! UpstreamList(parsing: layers.string(Settings.upstream) ?? Self.defaultUpstream)
        cacheDirectory = layers.path(Settings.cacheDir, home: home) ?? Self.defaultCacheDirectory(environment: environment)
        maxCacheSize = layers.size(Settings.maxCacheSize) ?? Self.defaultMaxCacheSize
        logLevel = layers.string(Settings.logLevel).flatMap(Logger.Level.init(rawValue:)) ?? .info
        let freshness = FreshnessPolicy()
        self.freshness = FreshnessPolicy(
            moduleMetadataTTL: layers.duration(Settings.metadataTTL) ?? freshness.moduleMetadataTTL,
            notFoundTTL: layers.duration(Settings.notFoundTTL) ?? freshness.notFoundTTL,
            checksumDatabaseTTL: layers.duration(Settings.sumdbTTL) ?? freshness.checksumDatabaseTTL)
        readAhead = layers.boolean(Settings.readAhead) ?? true
        prefetchConcurrency = layers.count(Settings.prefetchConcurrency) ?? 8
        controlHosts = (layers.strings(Settings.controlHosts) ?? ["127.0.0.1", "::1"]).compactMap(HostPattern.init(parsing:))
        let client = UpstreamClientConfiguration()
        self.client = UpstreamClientConfiguration(
            connectTimeout: layers.duration(Settings.connectTimeout) ?? client.connectTimeout,
            stallTimeout: layers.duration(Settings.stallTimeout) ?? client.stallTimeout,
            netrcFile: environment["NETRC"],
            userAgent: "goedge/\(GoEdge.version)",
            backgroundConcurrency: prefetchConcurrency)
        shutdownTimeout = layers.duration(Settings.shutdownTimeout) ?? .seconds(10)
        idleTimeout = layers.duration(Settings.idleTimeout).map { $0 == .zero ? .never : .after($0) } ?? .whenSocketActivated
    }

    /// `$CACHE_DIRECTORY` (set by systemd's CacheDirectory=), else
    /// `$XDG_CACHE_HOME/goedge`, else `~/.cache/goedge`.
    static func defaultCacheDirectory(environment: [String: String]) -> String {
        if let systemd = environment["CACHE_DIRECTORY"]?.split(separator: ":").first, !systemd.isEmpty {
            return String(systemd)
        }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return xdg + "/goedge"
        }
        return (environment["HOME"] ?? "/tmp") + "/.cache/goedge"
    }
}
