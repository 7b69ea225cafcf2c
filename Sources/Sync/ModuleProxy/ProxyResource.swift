import LRUCache
import GoModules
import Upstream

/// One thing a client can ask a Go module proxy for.
public enum ProxyResource: Hashable, Sendable, CustomStringConvertible {
    /// `$module/@v/list`
    case list(ModulePath)
    /// `$module/@latest`
    case latest(ModulePath)
    /// `$module/@v/$version.info`: for a canonical version or a query
    case info(ModulePath, ModuleVersion)
    /// `$module/@v/$version.mod`
    case mod(ModulePath, ModuleVersion)
    /// `$module/@v/$version.zip`
    case zip(ModulePath, ModuleVersion)
    /// `sumdb/$name/…`, passed through to the upstream
    case sumdb(SumdbRequest)

    /// How long an answer may be kept.
    public enum Lifetime: Sendable, Equatable {
        /// Never changes once served: `.mod`, `.zip`, canonical `.info`, sumdb lookups and tiles.
        case immutable
        /// `list`, `@latest`, query `.info`.
        case moduleMetadata
        /// sumdb `latest` and `supported`.
        case checksumDatabaseState
    }

    public var lifetime: Lifetime {
        switch self {
        case .list, .latest: .moduleMetadata
        case .info(_, let version): version.isCanonical ? .immutable : .moduleMetadata
        case .mod, .zip: .immutable
        case .sumdb(let request):
            switch request.endpoint {
            case .lookup, .tile: .immutable
            case .latest, .supported: .checksumDatabaseState
            }
        }
    }

    /// The module version whose files these are, for read-ahead and logs.
    public var moduleVersion: (ModulePath, ModuleVersion)? {
        switch self {
        case .info(let module, let version), .mod(let module, let version), .zip(let module, let version):
            (module, version)
        default: nil
        }
    }

    /// The path below an upstream's base URL, escaped as the go command
    /// escapes it (cmd/go/internal/modfetch.pathEscape).
    public var upstreamPath: String {
        GoPathEscape.escape(protocolPath)
    }

    /// The unescaped protocol path, as in logs.
    public var protocolPath: String {
        switch self {
        case .list(let module): "\(module.escaped)/@v/list"
        case .latest(let module): "\(module.escaped)/@latest"
        case .info(let module, let version): "\(module.escaped)/@v/\(version.escaped).info"
        case .mod(let module, let version): "\(module.escaped)/@v/\(version.escaped).mod"
        case .zip(let module, let version): "\(module.escaped)/@v/\(version.escaped).zip"
        case .sumdb(let request): "sumdb/\(request.name)/\(request.endpoint.path)"
        }
    }

    public var description: String { "/" + protocolPath }

    /// The Content-Type of a successful answer.
    public var contentType: String {
        switch self {
        case .info, .latest: "application/json"
        case .zip: "application/zip"
        case .list, .mod: "text/plain; charset=utf-8"
        case .sumdb(let request):
            if case .tile = request.endpoint { "application/octet-stream" } else { "text/plain; charset=utf-8" }
        }
    }

    /// The largest body accepted from an upstream (the go command's own
    /// limits where it has them: go.mod 16 MiB, zip 500 MiB).
    public var maximumSize: Int64 {
        switch self {
        case .zip: 500 << 20
        case .mod, .list: 16 << 20
        case .info, .latest: 1 << 20
        case .sumdb: 16 << 20
        }
    }

    /// The GOPROXY path of a module version's file, without the leading
    /// slash (`example.com/!m/@v/v1.0.0.zip`): what `goedge cache import`
    /// sends it to the agent under. Nil for anything else.
    public var importPath: String? {
        switch self {
        case .info(let module, let version): "\(module.escaped)/@v/\(version.escaped).info"
        case .mod(let module, let version): "\(module.escaped)/@v/\(version.escaped).mod"
        case .zip(let module, let version): "\(module.escaped)/@v/\(version.escaped).zip"
        default: nil
        }
    }

    /// Where the answer is stored: the group is the eviction unit (one
    /// module@version for its info/mod/zip), the name the file in it. Nil
    /// when the path is too long to store: such answers are passed through.
    public var cacheKey: CacheKey? {
        let (group, name) = storageName
        return try? CacheKey(group: group, name: name)
    }

    /// Where a 404/410 for an immutable resource is remembered for a while,
    /// beside (never instead of) the file itself.
    public var negativeCacheKey: CacheKey? {
        let (group, name) = storageName
        return try? CacheKey(group: group, name: name + ".missing")
    }

    private var storageName: (group: String, name: String) {
        switch self {
        case .list(let module): ("\(module.escaped)/@v", "list")
        case .latest(let module): ("\(module.escaped)/@latest", "latest")
        case .info(let module, let version):
            version.isCanonical
                ? ("\(module.escaped)/@v/\(version.escaped)", "info")
                : ("\(module.escaped)/@query/\(version.escaped)", "info")
        case .mod(let module, let version): ("\(module.escaped)/@v/\(version.escaped)", "mod")
        case .zip(let module, let version): ("\(module.escaped)/@v/\(version.escaped)", "zip")
        case .sumdb(let request):
            switch request.endpoint {
            case .supported: ("sumdb/\(request.name)", "supported")
            case .latest: ("sumdb/\(request.name)", "latest")
            case .lookup(let module, let version): ("sumdb/\(request.name)/lookup/\(module.escaped)@\(version.escaped)", "lookup")
            case .tile(let path): ("sumdb/\(request.name)/\(path)", "tile")
            }
        }
    }
}

/// The go command's pathEscape: url.PathEscape per segment, slashes kept.
enum GoPathEscape {
    static func escape(_ path: String) -> String {
        var result = ""
        result.reserveCapacity(path.utf8.count)
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"), UInt8(ascii: "/"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "+"),
                UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "@"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                result += "%"
                result.unicodeScalars.append(Unicode.Scalar(digits[Int(byte >> 4)]))
                result.unicodeScalars.append(Unicode.Scalar(digits[Int(byte & 0xF)]))
            }
        }
        return result
    }
}
