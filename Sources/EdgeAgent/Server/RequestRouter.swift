import NIOHTTP1
import Sync

/// What a request asks of the agent.
enum Route: Equatable {
    /// A GOPROXY protocol resource.
    case proxy(ProxyResource)
    /// One of the agent's own endpoints, under `/-/`. A module path's first
    /// element must contain a dot, so `-` can never be one.
    case agent(path: String)
}

/// A request the agent refuses, with the status and the text it answers.
struct RouteError: Error, Equatable {
    let status: Int
    let message: String
    var allow: String? = nil
}

/// Maps a request line to a ``Route``, or to a 4xx for anything malformed.
/// Pure: nothing here touches the file system, so no request path can reach
/// one; the cache names what it stores itself.
enum RequestRouter {
    static let maximumPathLength = 4096

    static func route(method: HTTPMethod, uri: String) -> Result<Route, RouteError> {
        guard method == .GET || method == .HEAD else {
            return .failure(RouteError(status: 405, message: "method \(method.rawValue) not allowed: use GET or HEAD", allow: "GET, HEAD"))
        }
        guard uri.utf8.count <= maximumPathLength else {
            return .failure(RouteError(status: 414, message: "request path longer than \(maximumPathLength) bytes"))
        }
        guard uri.hasPrefix("/") else {
            return .failure(RouteError(status: 400, message: "request target must be an absolute path"))
        }
        // The protocol has no query parameters; a client's extras are ignored.
        let rawPath = uri.prefix { $0 != "?" && $0 != "#" }
        guard let path = percentDecode(rawPath.dropFirst()) else {
            return .failure(RouteError(status: 400, message: "malformed percent-encoding in request path"))
        }
        // Module paths, versions and sumdb paths never have empty or dot
        // segments; a request with one is malformed, whatever it aims at.
        if path.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return .failure(RouteError(status: 400, message: "request path has an empty, '.' or '..' segment"))
        }
        if path.hasPrefix("-/") {
            return .success(.agent(path: String(path.dropFirst(2))))
        }
        if path.hasPrefix("sumdb/") {
            guard let request = SumdbRequest(path: path.dropFirst("sumdb/".count)) else {
                return .failure(RouteError(status: 404, message: "not a checksum database path: /\(path)"))
            }
            return .success(.proxy(.sumdb(request)))
        }
        do {
            if path.hasSuffix("/@latest") {
                return .success(.proxy(.latest(try ModulePath(escaped: String(path.dropLast("/@latest".count))))))
            }
            guard let marker = lastRange(of: "/@v/", in: path) else {
                return .failure(RouteError(status: 404, message: "not a module proxy path: /\(path)"))
            }
            let module = try ModulePath(escaped: String(path[..<marker.lowerBound]))
            let file = path[marker.upperBound...]
            if file == "list" { return .success(.proxy(.list(module))) }
            for (suffix, make) in [
                (".info", ProxyResource.info), (".mod", ProxyResource.mod), (".zip", ProxyResource.zip),
            ] where file.hasSuffix(suffix) {
                let version = try ModuleVersion(escaped: String(file.dropLast(suffix.count)))
                if suffix != ".info" && !version.isCanonical {
                    return .failure(RouteError(status: 400, message: "invalid version \"\(version)\": \(suffix) needs a canonical version"))
                }
                return .success(.proxy(make(module, version)))
            }
            return .failure(RouteError(status: 404, message: "not a module proxy path: /\(path)"))
        } catch {
            return .failure(RouteError(status: 400, message: "bad request: \(error)"))
        }
    }

    /// Decodes `%XX` escapes; nil for a malformed escape, a NUL byte or
    /// invalid UTF-8.
    static func percentDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        guard !bytes.contains(0) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func lastRange(of needle: String, in text: String) -> Range<String.Index>? {
        var index = text.endIndex
        while index > text.startIndex {
            index = text.index(before: index)
            if text[index...].hasPrefix(needle) { return index..<text.index(index, offsetBy: needle.count) }
        }
        return nil
    }
}
