import NIOHTTP1
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin

/// What a request asks of the agent.
package enum Route: Equatable {
    /// A GOPROXY protocol resource, with its cache keys.
    case proxy(ProxyRequest)
    /// One of the agent's own endpoints, under `/-/`. A module path's first
    /// element must contain a dot, so `-` can never be one.
    case agent(path: String)
}

/// A request the agent refuses, with the status and the text it answers.
package struct RouteError: Error, Equatable {
    let status: Int
    let message: String
    var allow: String? = nil
}

/// Maps a request line to a ``Route``, or to a 4xx for anything malformed.
/// Pure: nothing here touches the file system, so no request path can reach
/// one; the cache names what it stores itself.
package enum RequestRouter {
    static let maximumPathLength = 4096

    package static func route(method: HTTPMethod, uri: String) -> Result<Route, RouteError> {
        // The agent's own endpoints check their methods themselves.
        guard method == .GET || method == .HEAD || uri.hasPrefix("/-/") else {
            return .failure(RouteError(status: 405, message: "method \(method.rawValue) not allowed: use GET or HEAD", allow: "GET, HEAD"))
        }
        // Bytes, not Characters: paths are ASCII once decoded (anything else
        // fails the module checks), and this runs for every request.
        let target = uri.utf8
        guard target.count <= maximumPathLength else {
            return .failure(RouteError(status: 414, message: "request path longer than \(maximumPathLength) bytes"))
        }
        guard target.first == slash else {
            return .failure(RouteError(status: 400, message: "request target must be an absolute path"))
        }
        // The protocol has no query parameters; a client's extras are ignored.
        let raw = target.dropFirst().prefix { $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") }
        guard let path = percentDecode(raw) else {
            return .failure(RouteError(status: 400, message: "malformed percent-encoding in request path"))
        }
        // A folder-like path (`/rsc.io/quote/@v/`) names no file: not found,
        // as the go command's own proxies answer it.
        if path.count > 1, path.last == slash, !hasEmptyOrDotSegment(Array(path.dropLast())) {
            return .failure(RouteError(status: 404, message: "not a module proxy path: /\(string(path[...]))"))
        }
        // Module paths, versions and sumdb paths never have empty or dot
        // segments; a request with one is malformed, whatever it aims at.
        if hasEmptyOrDotSegment(path) {
            return .failure(RouteError(status: 400, message: "request path has an empty, '.' or '..' segment"))
        }
        if path.starts(with: "-/".utf8) {
            return .success(.agent(path: string(path.dropFirst(2))))
        }
        if path.starts(with: "sumdb/".utf8) {
            guard let request = SumdbRequest(path: Substring(string(path.dropFirst(6)))) else {
                return .failure(RouteError(status: 404, message: "not a checksum database path: /\(string(path[...]))"))
            }
            return .success(.proxy(ProxyRequest(.sumdb(request))))
        }
        do {
            if path.count > latestSuffix.count && path.reversed().starts(with: latestSuffix.reversed()) {
                return .success(.proxy(ProxyRequest(.latest(try ModulePath(escaped: string(path.dropLast(latestSuffix.count)))))))
            }
            guard let marker = firstIndex(of: versionMarker, in: path) else {
                return .failure(RouteError(status: 404, message: "not a module proxy path: /\(string(path[...]))"))
            }
            let module = try ModulePath(escaped: string(path[..<marker]))
            let file = path[(marker + versionMarker.count)...]
            if file.elementsEqual("list".utf8) { return .success(.proxy(ProxyRequest(.list(module)))) }
            for (suffix, make) in suffixes where file.count > suffix.count && file.reversed().starts(with: suffix.reversed()) {
                let version = try ModuleVersion(escaped: string(file.dropLast(suffix.count)))
                if make != .info && !version.isCanonical {
                    return .failure(
                        RouteError(status: 400, message: "invalid version \"\(version)\": .\(make) needs a canonical version"))
                }
                switch make {
                case .info: return .success(.proxy(ProxyRequest(.info(module, version))))
                case .mod: return .success(.proxy(ProxyRequest(.mod(module, version))))
                case .zip: return .success(.proxy(ProxyRequest(.zip(module, version))))
                }
            }
            return .failure(RouteError(status: 404, message: "not a module proxy path: /\(string(path[...]))"))
        } catch {
            return .failure(RouteError(status: 400, message: "bad request: \(error)"))
        }
    }

    private enum FileKind { case info, mod, zip }
    private static let slash = UInt8(ascii: "/")
    private static let dot = UInt8(ascii: ".")
    private static let latestSuffix = Array("/@latest".utf8)
    private static let versionMarker = Array("/@v/".utf8)
    private static let suffixes: [([UInt8], FileKind)] = [
        (Array(".info".utf8), .info), (Array(".mod".utf8), .mod), (Array(".zip".utf8), .zip),
    ]

    private static func string(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Whether any `/`-separated segment is empty, `.` or `..`, in one pass.
    static func hasEmptyOrDotSegment(_ path: [UInt8]) -> Bool {
        var segmentStart = 0
        for index in 0...path.count where index == path.count || path[index] == slash {
            switch index - segmentStart {
            case 0: return true
            case 1 where path[segmentStart] == dot: return true
            case 2 where path[segmentStart] == dot && path[segmentStart + 1] == dot: return true
            default: break
            }
            segmentStart = index + 1
        }
        return false
    }

    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }

    /// Decodes `%XX` escapes; nil for a malformed escape, a NUL byte or
    /// invalid UTF-8.
    static func percentDecode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        var ascii = true
        while let byte = iterator.next() {
            var decoded = byte
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                decoded = high << 4 | low
            }
            if decoded == 0 { return nil }
            if decoded >= 0x80 { ascii = false }
            bytes.append(decoded)
        }
        guard ascii || String(validating: bytes, as: UTF8.self) != nil else { return nil }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

}
