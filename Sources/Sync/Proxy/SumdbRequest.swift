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

    /// The database's name, a host name such as `sum.golang.org`.
    public let name: String
    public let endpoint: Endpoint

    /// Parses what follows `sumdb/` in a request path; nil when it is not a
    /// checksum database request.
    public init?(path: Substring) {
        let parts = path.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, Self.isDatabaseName(parts[0]) else { return nil }
        name = String(parts[0])
        let rest = parts[1]
        if rest == "supported" {
            endpoint = .supported
        } else if rest == "latest" {
            endpoint = .latest
        } else if rest.hasPrefix("lookup/") {
            let target = rest.dropFirst("lookup/".count)
            guard let at = target.lastIndex(of: "@"),
                let module = try? ModulePath(escaped: String(target[..<at])),
                let version = try? ModuleVersion(escaped: String(target[target.index(after: at)...]))
            else { return nil }
            endpoint = .lookup(module, version)
        } else if rest.hasPrefix("tile/"), Self.isTilePath(rest) {
            endpoint = .tile(String(rest))
        } else {
            return nil
        }
    }

    private static func isDatabaseName(_ name: Substring) -> Bool {
        !name.isEmpty && name.utf8.count <= 253 && name.first != "." && name.first != "-"
            && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "." || $0 == "-") }
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
