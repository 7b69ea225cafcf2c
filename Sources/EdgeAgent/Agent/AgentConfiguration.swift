import LRUCache
import Logging
import Sync

/// Everything `goedge serve` needs, resolved from defaults and options.
struct AgentConfiguration {
    var listen: ListenAddress
    var upstreams: UpstreamList
    var cacheDirectory: String
    var maxCacheSize: ByteSize
    var logLevel: Logger.Level
    var freshness: FreshnessPolicy
    var client: UpstreamClientConfiguration
    /// How long SIGTERM waits for responses in flight.
    var shutdownTimeout: Duration

    static let defaultListen = ListenAddress(host: "127.0.0.1", port: 7179)
    static let defaultUpstream = "https://proxy.golang.org"
    static let defaultMaxCacheSize = ByteSize(bytes: 10 << 30)

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
