#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import NIOHTTP1

/// One request as the agent needs it: method, target, version, and whether
/// the connection stays open afterwards.
package struct RequestHead: Sendable {
    package var method: HTTPMethod
    package var uri: String
    var version: HTTPVersion
    var keepAlive: Bool
    /// Bytes of body that follow the head (Content-Length).
    var contentLength: Int = 0
    /// `Expect: 100-continue`: the client waits for a go-ahead before it sends the body.
    var expectsContinue = false
    /// The `Authorization` field's value, for the endpoints that check one.
    var authorization: String? = nil
}

/// Reads HTTP/1.x request heads (RFC 9112) from the bytes of a connection.
///
/// A body is framed by `Content-Length` only (the agent's own clients send
/// one, and proxy requests have none): `Transfer-Encoding` is refused
/// rather than framed, and so are two different lengths, which keeps this
/// parser small and leaves no way to desync requests on a connection.
/// Whether a request may have a body at all is the router's decision, made
/// on the head before any of the body is read. Everything else malformed is
/// refused too, with the status a client should see (an HTTP/1.1 request
/// without `Host` among them). Bytes are scanned in place; the only
/// allocation is the target's String.
package enum RequestHeadParser {
    /// Longest request line accepted (the router refuses paths over 4 KiB itself).
    static let maximumRequestLine = 8192
    /// Longest head accepted, request line and header fields together.
    static let maximumHead = 16384
    /// Longest Content-Length accepted at all (digits): the router holds
    /// each endpoint to its own, far smaller, limit.
    static let maximumContentLengthDigits = 12
    /// Most header lines accepted (the go command sends five or six).
    static let maximumHeaderLines = 100

    /// How far an incomplete head was scanned: where its next line starts
    /// (0: the request line is not complete yet) and how many header lines
    /// came before it. Kept by the connection between reads, so that a head
    /// arriving a few bytes at a time costs no more than one arriving whole.
    package struct Progress: Equatable, Sendable {
        var nextLine = 0
        var headerLines = 0

        package init() {}

        init(nextLine: Int, headerLines: Int) {
            self.nextLine = nextLine
            self.headerLines = headerLines
        }
    }

    package enum Outcome: Equatable {
        /// A complete head, and how many bytes it took.
        case request(RequestHead, consumed: Int)
        /// The head is not complete yet.
        case needMoreBytes
        /// The request cannot be served: answer `status` and close.
        case refused(status: Int, reason: String)
    }

    package static func parse(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        var progress = Progress()
        return parse(bytes, progress: &progress)
    }

    /// ``parse(_:)`` for bytes that begin as they did at the last call
    /// (more may have come): the search for the head's end goes on from
    /// `progress`, which is updated when the head is still incomplete.
    package static func parse(_ bytes: UnsafeRawBufferPointer, progress: inout Progress) -> Outcome {
        guard let lineEnd = endOfLine(in: bytes, from: 0) else {
            return bytes.count > maximumRequestLine
                ? .refused(status: 414, reason: "request line longer than \(maximumRequestLine) bytes") : .needMoreBytes
        }
        // Find the end of the head before judging it, so that a head that is
        // merely incomplete is never refused.
        let fieldsStart = lineEnd.next
        var lineStart = max(fieldsStart, progress.nextLine)
        var headerLines = progress.nextLine > fieldsStart ? progress.headerLines : 0
        while true {
            guard let end = endOfLine(in: bytes, from: lineStart) else {
                progress = Progress(nextLine: lineStart, headerLines: headerLines)
                return bytes.count > maximumHead
                    ? .refused(status: 431, reason: "request head longer than \(maximumHead) bytes") : .needMoreBytes
            }
            lineStart = end.next
            if end.content.isEmpty { break }
            headerLines += 1
            if headerLines > maximumHeaderLines {
                return .refused(status: 431, reason: "more than \(maximumHeaderLines) header lines")
            }
        }
        if lineStart > maximumHead { return .refused(status: 431, reason: "request head longer than \(maximumHead) bytes") }

        // Request line: METHOD SP target SP HTTP/1.x
        let line = lineEnd.content
        guard let firstSpace = find(space, in: bytes, line),
            let secondSpace = find(space, in: bytes, (firstSpace + 1)..<line.upperBound),
            firstSpace > line.lowerBound, secondSpace > firstSpace + 1
        else { return .refused(status: 400, reason: "malformed request line") }
        let methodBytes = bytes[line.lowerBound..<firstSpace]
        let target = bytes[(firstSpace + 1)..<secondSpace]
        let versionBytes = bytes[(secondSpace + 1)..<line.upperBound]
        guard methodBytes.allSatisfy(isTokenByte) else { return .refused(status: 400, reason: "malformed method") }
        guard target.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            return .refused(status: 400, reason: "request target has spaces or control characters")
        }
        guard versionBytes.count == 8, hasPrefix("HTTP/", bytes, versionBytes.startIndex),
            versionBytes[versionBytes.startIndex + 6] == UInt8(ascii: "."),
            let major = digit(versionBytes[versionBytes.startIndex + 5]),
            let minor = digit(versionBytes[versionBytes.startIndex + 7])
        else { return .refused(status: 400, reason: "malformed HTTP version") }
        guard major == 1 else { return .refused(status: 505, reason: "only HTTP/1.0 and HTTP/1.1 are served") }

        // Header fields: only the ones that change how the connection is used matter.
        var keepAlive = minor >= 1
        var contentLength: Int?
        var hosts = 0
        var expectsContinue = false
        var authorization: String?
        var fieldStart = fieldsStart
        while let (field, next) = endOfLine(in: bytes, from: fieldStart), !field.isEmpty {
            fieldStart = next
            guard let colon = find(UInt8(ascii: ":"), in: bytes, field), colon > field.lowerBound else {
                return .refused(status: 400, reason: "malformed header field")
            }
            let name = bytes[field.lowerBound..<colon]
            // No space before the colon, and no obsolete line folding (RFC 9112 §5).
            guard name.allSatisfy(isTokenByte) else { return .refused(status: 400, reason: "malformed header field name") }
            let value = trimmed(bytes[(colon + 1)..<field.upperBound])
            // One comparison per field: the names that matter differ in length.
            switch name.count {
            case 10 where equalsIgnoringCase(name, "connection"):
                for option in value.split(separator: UInt8(ascii: ",")) {
                    let token = trimmed(option)
                    if equalsIgnoringCase(token, "close") { keepAlive = false }
                    if equalsIgnoringCase(token, "keep-alive") { keepAlive = true }
                }
            case 14 where equalsIgnoringCase(name, "content-length"):
                guard !value.isEmpty, value.count <= maximumContentLengthDigits, value.allSatisfy({ digit($0) != nil }) else {
                    return .refused(status: 400, reason: "malformed Content-Length")
                }
                let length = value.reduce(0) { $0 * 10 + digit($1)! }
                // Two lengths could frame the body two ways (RFC 9112 §6.3): refused unless they agree.
                if let earlier = contentLength, earlier != length {
                    return .refused(status: 400, reason: "two different Content-Length fields")
                }
                contentLength = length
            case 17 where equalsIgnoringCase(name, "transfer-encoding"):
                return .refused(status: 411, reason: "send request bodies with a Content-Length")
            case 4 where equalsIgnoringCase(name, "host"):
                hosts += 1
            case 6 where equalsIgnoringCase(name, "expect"):
                guard equalsIgnoringCase(value, "100-continue") else {
                    return .refused(status: 417, reason: "only Expect: 100-continue is understood")
                }
                expectsContinue = true
            case 13 where equalsIgnoringCase(name, "authorization"):
                authorization = String(decoding: value, as: UTF8.self)
            default:
                break
            }
        }
        // RFC 9112 §3.2: a server must refuse an HTTP/1.1 request without exactly one Host.
        if minor >= 1 && hosts != 1 {
            return .refused(status: 400, reason: hosts == 0 ? "HTTP/1.1 request without Host" : "more than one Host field")
        }
        // What clients send nearly always, without making a String to compare.
        let method: HTTPMethod =
            if methodBytes.count == 3 && hasPrefix("GET", bytes, methodBytes.startIndex) {
                .GET
            } else if methodBytes.count == 4 && hasPrefix("HEAD", bytes, methodBytes.startIndex) {
                .HEAD
            } else {
                HTTPMethod(rawValue: String(decoding: methodBytes, as: UTF8.self))
            }
        let head = RequestHead(
            method: method, uri: String(decoding: target, as: UTF8.self),
            version: HTTPVersion(major: 1, minor: minor), keepAlive: keepAlive, contentLength: contentLength ?? 0,
            expectsContinue: expectsContinue, authorization: authorization)
        return .request(head, consumed: lineStart)
    }

    private static let space = UInt8(ascii: " ")

    /// The line starting at `start`: its content without the terminator
    /// (CRLF, or a bare LF, which RFC 9112 lets a recipient accept), and
    /// where the next line begins.
    private static func endOfLine(in bytes: UnsafeRawBufferPointer, from start: Int) -> (content: Range<Int>, next: Int)? {
        guard let newline = find(UInt8(ascii: "\n"), in: bytes, start..<bytes.count) else { return nil }
        let end = newline > start && bytes[newline - 1] == UInt8(ascii: "\r") ? newline - 1 : newline
        return (start..<end, newline + 1)
    }

    /// The first `byte` in `range`, found with memchr (a byte-by-byte
    /// search through a slice costs more than the rest of the parse).
    private static func find(_ byte: UInt8, in bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, let base = bytes.baseAddress,
            let found = memchr(base + range.lowerBound, Int32(byte), range.count)
        else { return nil }
        return base.distance(to: found)
    }

    /// Whether `prefix` is at `offset` (the caller checked there are enough bytes).
    private static func hasPrefix(_ prefix: StaticString, _ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Bool {
        memcmp(bytes.baseAddress! + offset, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil
    }

    /// RFC 9110 tchar.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    private static func trimmed<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> C.SubSequence {
        let isBlank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else {
            return bytes[bytes.endIndex...]
        }
        return bytes[first...last]
    }

    private static func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        return zip(bytes, expected).allSatisfy { ($0 | 0x20) == $1 || $0 == $1 }
    }
}

extension RequestHead: Equatable {}
