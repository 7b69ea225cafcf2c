import LRUCache
import Logging
import Sync

/// Everything `goedge serve` needs, resolved from defaults and options.
struct AgentConfiguration {
    var listen: ListenAddress
    /// Whether the listen address was asked for (rather than the default).
    var listenWasGiven = false
    var upstreams: UpstreamList
    var cacheDirectory: String
    var maxCacheSize: ByteSize
    var logLevel: Logger.Level
    var freshness: FreshnessPolicy
    var client: UpstreamClientConfiguration
    /// How long SIGTERM waits for responses in flight.
    var shutdownTimeout: Duration
    var idleTimeout: IdleTimeout = .whenSocketActivated

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
