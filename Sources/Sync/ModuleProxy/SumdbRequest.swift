import GoModules
import Upstream

/// A checksum database request passed through a proxy
/// (go.dev/ref/mod#checksum-database): `sumdb/$name/supported`, `latest`,
/// `lookup/$module@$version` or `tile/$H/$L/$K[.p/$W]`.
public struct SumdbRequest: Hashable, Sendable {
    public enum Endpoint: Hashable, Sendable {
        case supported
        case latest
        case lookup(ModulePath, ModuleVersion)
        /// The tile path after `tile/`… kept whole, as checked by ``SumdbRequest/isTilePath(_:)``.
        case tile(String)

        var path: String {
            switch self {
            case .supported: "supported"
            case .latest: "latest"
            case .lookup(let module, let version): "lookup/\(module.escaped)@\(version.escaped)"
            case .tile(let path): path
            }
        }
    }

    /// The database's name as its verifier key gives it: `sum.golang.org`,
    /// but also a name with path elements (`sum.example.com/go`).
    public let name: String
    public let endpoint: Endpoint

    /// Parses what follows `sumdb/` in a request path; nil when it is not a
    /// checksum database request. The name may hold `/`, so the request is
    /// split where an endpoint begins, not at the first slash.
    public init?(path: Substring) {
        if let name = path.removingSuffix("/supported"), Self.isDatabaseName(name) {
            self.name = String(name)
            endpoint = .supported
            return
        }
        if let name = path.removingSuffix("/latest"), Self.isDatabaseName(name) {
            self.name = String(name)
            endpoint = .latest
            return
        }
        for marker in ["/lookup/", "/tile/"] {
            var searchFrom = path.startIndex
            while let found = path[searchFrom...].range(of: marker) {
                searchFrom = path.index(after: found.lowerBound)
                let name = path[..<found.lowerBound]
                guard Self.isDatabaseName(name) else { continue }
                let rest = path[found.upperBound...]
                if marker == "/lookup/", let at = rest.lastIndex(of: "@"),
                    let module = try? ModulePath(escaped: String(rest[..<at])),
                    let version = try? ModuleVersion(escaped: String(rest[rest.index(after: at)...]))
                {
                    self.name = String(name)
                    endpoint = .lookup(module, version)
                    return
                }
                let tile = path[path.index(after: found.lowerBound)...]
                if marker == "/tile/", Self.isTilePath(tile) {
                    self.name = String(name)
                    endpoint = .tile(String(tile))
                    return
                }
            }
        }
        return nil
    }

    /// A note name (golang.org/x/mod/sumdb/note: no spaces, no `+`), held
    /// to what can name a folder safely: printable ASCII without `%` or
    /// `\`, in `/`-separated elements none of which is empty, `.` or `..`.
    static func isDatabaseName(_ name: Substring) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 200 else { return false }
        guard
            name.utf8.allSatisfy({
                $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "%") && $0 != UInt8(ascii: "\\")
            })
        else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    /// The exact length of a hash tile (`tile/H/L/…`, 2^H hashes of 32
    /// bytes, or W of them for a partial `.p/W`); nil for a data tile,
    /// whose records vary in length.
    public static func tileSize(_ path: String) -> Int? {
        let parts = path.split(separator: "/")
        guard parts.count >= 4, parts[2] != "data", let height = Int(parts[1]), (1...30).contains(height) else { return nil }
        if parts.count >= 2, parts[parts.count - 2].hasSuffix(".p"), let width = Int(parts[parts.count - 1]) {
            return width * 32
        }
        return (1 << height) * 32
    }

    /// golang.org/x/mod/sumdb/tlog's tile paths: `tile/H/L/x123/x456/789`,
    /// `L` being a level or `data`, and a partial tile ending in `.p/W`.
    static func isTilePath(_ path: Substring) -> Bool {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        if parts.count >= 2, let width = parts.last, let previous = parts.dropLast().last, previous.hasSuffix(".p") {
            guard let value = Int(width), value > 0, value < 256, String(value) == width else { return false }
            parts = parts.dropLast()
            parts[parts.endIndex - 1] = parts.last!.dropLast(2)
        }
        guard parts.count >= 3, let height = Int(parts.first!), (1...30).contains(height),
            String(height) == parts.first!
        else { return false }
        let level = parts.dropFirst().first!
        guard level == "data" || (Int(level).map { (0...63).contains($0) && String($0) == level } ?? false) else {
            return false
        }
        let index = parts.dropFirst(2)
        for (position, element) in index.enumerated() {
            let isLast = position == index.count - 1
            let digits = isLast ? element : element.dropFirst()
            guard (isLast || element.first == "x"), digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber })
            else { return false }
        }
        return true
    }
}

extension Substring {
    fileprivate func removingSuffix(_ suffix: String) -> Substring? {
        hasSuffix(suffix) ? dropLast(suffix.count) : nil
    }
}
