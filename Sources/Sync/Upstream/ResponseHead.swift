/// The status line and headers of an upstream response.
public struct ResponseHead: Sendable, Equatable {
    public var status: Int
    /// The reason phrase as the upstream sent it; HTTP/2 has none, so the
    /// standard phrase stands in.
    public var reason: String
    /// Header fields in order, names lower-cased.
    public var headers: [(name: String, value: String)]
    /// The HTTP major version of the response (1 or 2, 3).
    public var majorVersion: Int

    public init(status: Int, reason: String, headers: [(name: String, value: String)] = [], majorVersion: Int = 1) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.majorVersion = majorVersion
    }

    /// Whether the body's end is signalled by the protocol (a Content-Length
    /// that libcurl holds the body to, the last chunk of a chunked body, or
    /// HTTP/2's end of stream) rather than by the connection closing, which
    /// a cut connection looks exactly like. Only such a body can be known
    /// complete, and only such a body is stored for good.
    public var endIsSignalled: Bool {
        if majorVersion >= 2 || contentLength != nil { return true }
        return value(of: "transfer-encoding")?.lowercased().split(separator: ",").last.map {
            String($0).trimmingCharacters(in: " \t") == "chunked"
        } ?? false
    }

    public func value(of name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// The Content-Length, when there is one valid value (libcurl refuses conflicting ones).
    public var contentLength: Int64? {
        guard let text = value(of: "content-length"), !text.isEmpty, text.utf8.count <= 18,
            text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int64(text)
    }
    public var contentType: String? { value(of: "content-type") }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason && lhs.majorVersion == rhs.majorVersion
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
/// reports, which include those of interim (1xx) and redirect responses.
///
/// A status line is taken only where a head begins: first, or after the
/// blank line that ends the previous head. A line looking like one in the
/// middle of a head is a malformed header field and is dropped, never taken
/// as a new response; a status outside 100–999 makes the head unusable.
package struct ResponseHeadParser {
    package private(set) var head: ResponseHead?
    /// Set by a status line that cannot be used: the transfer is refused.
    private(set) var malformed: String?
    private var expectingStatusLine = true

    package init() {}

    package mutating func consume(line raw: Substring) {
        let line = raw.trimmingSuffix(while: \.isNewline)
        if expectingStatusLine {
            guard !line.isEmpty else { return }
            expectingStatusLine = false
            guard let parsed = Self.statusLine(line) else {
                malformed = "the upstream sent a malformed status line"
                head = nil
                return
            }
            malformed = nil
            head = parsed
            return
        }
        if line.isEmpty {
            expectingStatusLine = true
            return
        }
        guard let colon = line.firstIndex(of: ":"), colon > line.startIndex else { return }
        let name = line[..<colon].lowercased()
        guard name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return }
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t")
        head?.headers.append((name, value))
    }

    /// `HTTP/1.1 200 OK`, `HTTP/2 404`: a version, a three-digit status, an optional reason.
    private static func statusLine(_ line: Substring) -> ResponseHead? {
        guard line.hasPrefix("HTTP/") else { return nil }
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[1].utf8.count == 3, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let status = Int(parts[1]), (100...999).contains(status),
            let major = parts[0].dropFirst(5).first?.wholeNumberValue
        else { return nil }
        let reason = parts.count > 2 ? String(parts[2]).trimmingCharacters(in: " ") : ""
        return ResponseHead(
            status: status, reason: reason.isEmpty ? ResponseHead.standardReason(for: status) : reason, majorVersion: major)
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
