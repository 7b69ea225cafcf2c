import LRUCache
import Logging
import GoModules
import Upstream
import ModuleProxy
import ModulePolicy
import Prefetch
import CacheAdmin
import ChecksumDatabase
import SharedStore

/// The goedge release.
package enum GoEdgeVersion {
    package static let current = "0.1.0"
}

/// Everything `goedge serve` needs, resolved from defaults and options
/// (by the command's configuration layers).
package struct AgentConfiguration: Sendable {
    package var listen: ListenAddress
    /// Whether the listen address was asked for (rather than the default).
    package var listenWasGiven: Bool
    package var upstreams: UpstreamList
    package var cacheDirectory: String
    package var maxCacheSize: ByteSize
    package var logLevel: Logger.Level
    /// One JSON object a log line (`log-format = json`).
    package var logsJSON: Bool
    package var freshness: FreshnessPolicy
    package var client: UpstreamClientConfiguration
    /// How long SIGTERM waits for responses in flight.
    package var shutdownTimeout: Duration
    package var idleTimeout: IdleTimeout
    package var readAhead: Bool
    /// Background downloads at once (prefetch and read-ahead).
    package var prefetchConcurrency: Int
    /// Who may use the control API and prefetch.
    package var controlHosts: [HostPattern]
    /// Time bounds of every connection.
    package var limits: ConnectionLimits
    /// Connections served at once.
    package var maximumConnections: Int
    /// Who may use the module protocol; nil: anyone who can connect.
    package var clientHosts: [HostPattern]?
    /// Who may fetch modules, by HTTP Basic credentials; nil: no credentials asked.
    package var clientCredentials: ClientCredentials?
    /// The module policy file (`policy-file`), read again on SIGHUP and when it changes.
    package var policy: PolicySource?
    /// TLS for TCP listeners (`tls-certificate`, `tls-key`); nil: plain HTTP.
    package var tls: ServerTLS?
    /// The checksum database (`checksum-database`); nil: off.
    package var checksumDatabase: ChecksumDatabaseSetting?
    /// What it does not cover (`no-checksum-database`).
    package var noChecksumDatabase = ModulePrefixPatterns("")
    /// A fleet's shared store (`shared-store` and its settings); nil: none.
    package var sharedStore: SharedStoreSettings?

    package init(
        listen: ListenAddress, listenWasGiven: Bool, upstreams: UpstreamList, cacheDirectory: String, maxCacheSize: ByteSize,
        logLevel: Logger.Level, logsJSON: Bool = false, freshness: FreshnessPolicy, client: UpstreamClientConfiguration, shutdownTimeout: Duration,
        idleTimeout: IdleTimeout, readAhead: Bool, prefetchConcurrency: Int, controlHosts: [HostPattern],
        limits: ConnectionLimits, maximumConnections: Int, clientHosts: [HostPattern]? = nil,
        clientCredentials: ClientCredentials? = nil, tls: ServerTLS? = nil, policy: PolicySource? = nil
    ) {
        self.tls = tls
        self.listen = listen
        self.listenWasGiven = listenWasGiven
        self.upstreams = upstreams
        self.cacheDirectory = cacheDirectory
        self.maxCacheSize = maxCacheSize
        self.logLevel = logLevel
        self.logsJSON = logsJSON
        self.freshness = freshness
        self.client = client
        self.shutdownTimeout = shutdownTimeout
        self.idleTimeout = idleTimeout
        self.readAhead = readAhead
        self.prefetchConcurrency = prefetchConcurrency
        self.controlHosts = controlHosts
        self.limits = limits
        self.maximumConnections = maximumConnections
        self.clientHosts = clientHosts
        self.clientCredentials = clientCredentials
        self.policy = policy
    }

    package static let defaultListen = ListenAddress(host: "127.0.0.1", port: 7179)
    package static let defaultUpstream = "https://proxy.golang.org"
    package static let defaultMaxCacheSize = ByteSize(bytes: 10 << 30)
    /// When to exit for lack of work.
    package enum IdleTimeout: Equatable, Sendable {
        /// After five minutes, but only when started by socket activation
        /// (the next connection starts goedge again); never otherwise.
        case whenSocketActivated
        case never
        case after(Duration)

        package static let socketActivatedDefault = Duration.seconds(300)

        package func duration(socketActivated: Bool) -> Duration? {
            switch self {
            case .whenSocketActivated: socketActivated ? Self.socketActivatedDefault : nil
            case .never: nil
            case .after(let duration): duration
            }
        }
    }

    /// `$CACHE_DIRECTORY` (set by systemd's CacheDirectory=), else
    /// `$XDG_CACHE_HOME/goedge`, else `~/.cache/goedge`.
    package static func defaultCacheDirectory(environment: [String: String]) -> String {
        if let systemd = environment["CACHE_DIRECTORY"]?.split(separator: ":").first, !systemd.isEmpty {
            return String(systemd)
        }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return xdg + "/goedge"
        }
        return (environment["HOME"] ?? "/tmp") + "/.cache/goedge"
    }
}

/// Where the module policy comes from, and how to read it (the
/// configuration layer parses the file; the agent only reads it again).
package struct PolicySource: Sendable {
    package let path: String
    /// The policy as read when the configuration was (a file with mistakes stops the start there).
    package let initial: ModulePolicy
    /// The policy, or the problems with the file, one a line.
    package let read: @Sendable () -> Result<ModulePolicy, PolicyFileProblems>

    package init(path: String, initial: ModulePolicy, read: @escaping @Sendable () -> Result<ModulePolicy, PolicyFileProblems>) {
        self.path = path
        self.initial = initial
        self.read = read
    }
}

package struct PolicyFileProblems: Error, CustomStringConvertible {
    package let lines: [String]

    package init(_ lines: [String]) {
        self.lines = lines
    }

    package var description: String { lines.joined(separator: "; ") }
}
