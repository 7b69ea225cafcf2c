/// The status line and headers of an upstream response.
public struct ResponseHead: Sendable, Equatable {
    public var status: Int
    /// The reason phrase as the upstream sent it; HTTP/2 has none, so the
    /// standard phrase stands in.
    public var reason: String
    /// Header fields in order, names lower-cased.
    public var headers: [(name: String, value: String)]

    public init(status: Int, reason: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    public func value(of name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    public var contentLength: Int64? { value(of: "content-length").flatMap { Int64($0) } }
    public var contentType: String? { value(of: "content-type") }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }

    /// The reason phrase RFC 9110 gives a status.
    public static func standardReason(for status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status \(status)"
        }
    }
}

/// Builds the head of the final response from the header lines libcurl
/// reports, which include those of interim (1xx) and redirect responses:
/// every status line starts over.
struct ResponseHeadParser {
    private(set) var head: ResponseHead?

    mutating func consume(line raw: Substring) {
        let line = raw.trimmingSuffix(while: \.isNewline)
        if line.hasPrefix("HTTP/") {
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard parts.count >= 2, let status = Int(parts[1]) else { return }
            let reason = parts.count > 2 ? String(parts[2]).trimmingCharacters(in: " ") : ""
            head = ResponseHead(status: status, reason: reason.isEmpty ? ResponseHead.standardReason(for: status) : reason)
            return
        }
        guard !line.isEmpty, let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t")
        head?.headers.append((name, value))
    }
}

extension Substring {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let scalars = Set(set)
        var slice = Substring(self)
        while let first = slice.first, scalars.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, scalars.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
