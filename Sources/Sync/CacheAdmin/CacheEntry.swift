import LRUCache

/// One entry of the cache as `goedge cache ls` shows it: a module version
/// (the eviction unit, its .info, .mod and .zip), or a piece of metadata (a
/// version list, @latest, a query, a checksum database answer).
public struct CacheEntry: Codable, Sendable, Equatable {
    /// `module@version` for a module version, else the stored path (`example.com/m/@v/list`).
    public var name: String
    public var module: String?
    public var version: String?
    /// Bytes of the files.
    public var size: Int64
    /// Bytes of disk used, blocks and folder counted.
    public var diskUsage: Int64
    /// Seconds since 1970 when a client last asked for it.
    public var lastUsed: Int64
    public var files: [String]
    /// Why the module policy in force no longer serves it (it stays cached).
    public var denied: String?

    /// The entry of a stored group, named as the go command names it.
    public init(_ group: StoredGroup) {
        let parts = group.name.components(separatedBy: "/@v/")
        if parts.count == 2, let module = try? ModulePath(escaped: parts[0]), let version = try? ModuleVersion(escaped: parts[1]) {
            self.module = module.path
            self.version = version.text
            name = "\(module.path)@\(version.text)"
        } else {
            name = group.name
        }
        size = group.size
        diskUsage = group.diskUsage
        lastUsed = group.lastUsed / 1_000_000_000
        files = group.files.sorted()
    }

    /// Whether `pattern` selects this entry: a glob (`*`, `?`, `[…]`, where
    /// `*` also matches `/`) against `module@version` or the module path, or
    /// a module path prefix ending in `/...`, as go command patterns do.
    public func matches(_ pattern: String) -> Bool {
        if pattern.hasSuffix("/...") {
            let prefix = String(pattern.dropLast(4))
            let path = module ?? name
            return path == prefix || path.hasPrefix(prefix + "/")
        }
        return Glob.matches(pattern, name) || module.map { Glob.matches(pattern, $0) } == true
    }
}

/// Shell-style matching where `*` crosses `/` (fnmatch without FNM_PATHNAME).
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        #if canImport(Glibc)
        return fnmatch(pattern, text, 0) == 0
        #endif
    }
}
#if canImport(Glibc)
import Glibc
import GoModules
import ModuleProxy
#endif
