import ChecksumDatabase
import GoModules
import ModuleProxy

/// Where a prefetch gets its files: the seam between walking a workspace's
/// module graph (``PrefetchJob``) and fetching. The agent fetches through its
/// own proxy (``ProxyPrefetchSource``); `goedge prefetch`, when the agent
/// does not prefetch for its user, through the agent's module protocol, as
/// any client may.
public protocol PrefetchSource: Sendable {
    /// Fetches one file into the cache and checks it against go.sum's hash,
    /// when one is given. `keepBytes`: the caller wants the body (a go.mod
    /// for the graph walk).
    func fetch(_ resource: ProxyResource, expectedHash: String?, keepBytes: Bool) async -> PrefetchFetch

    /// A module's version list (for the graph walk's queries); nil when it
    /// cannot be had.
    func versions(of module: ModulePath) async -> [ModuleVersion]?

    /// The checksum database `name` as the go command reads it through the
    /// agent (`/sumdb/<name>/…`): what is read through it is cached there.
    func checksumDatabase(named name: String) -> any ChecksumDatabaseFetching
}

/// What came of fetching one file.
public enum PrefetchFetch: Sendable {
    /// It is in the cache (and matched its hash). `fetchedNow`: it came from
    /// the upstream for this request, rather than from the cache.
    case stored(fetchedNow: Bool, bytes: Int64, body: [UInt8]?)
    /// It is not, or it does not match: one line that says why.
    case failed(String)
}

extension PrefetchFetch {
    /// The reason, for a failure an upstream's answer gives: its status and
    /// its first line.
    public static func refused(_ resource: ProxyResource, status: Int, reason: String, body: [UInt8]) -> PrefetchFetch {
        let line = String(decoding: body.prefix(4096), as: UTF8.self).textLines.first.map(String.init) ?? ""
        return .failed("\(resource.protocolPath): \(status) \(reason)" + (line.isEmpty ? "" : ": \(line)"))
    }
}

extension ModuleVersion {
    /// The versions of a module protocol `list` answer (one a line; what
    /// follows a version on its line, and lines that are not versions, are
    /// ignored as the go command ignores them).
    public static func listed(in list: [UInt8]) -> [ModuleVersion] {
        String(decoding: list, as: UTF8.self).textLines.compactMap {
            try? ModuleVersion(String($0.split(separator: " ").first ?? ""))
        }
    }
}
