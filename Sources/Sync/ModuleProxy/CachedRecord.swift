import GoModules
import Upstream

/// A stored answer whose status and headers matter: version lists,
/// `@latest`, query `.info`, sumdb state, and remembered 404/410s.
///
/// Stored as one file, a short text head then the body, so that it is
/// replaced atomically like any other entry:
///
///     goedge-record 1
///     status: 200
///     reason: OK
///     content-type: text/plain; charset=utf-8
///     etag: "abc"
///
///     v1.0.0
///     v1.1.0
public struct CachedRecord: Sendable, Equatable {
    public var status: Int
    public var reason: String
    public var contentType: String?
    public var etag: String?
    public var lastModified: String?
    public var body: [UInt8]

    public init(
        status: Int, reason: String, contentType: String?, etag: String? = nil, lastModified: String? = nil,
        body: [UInt8]
    ) {
        self.status = status
        self.reason = reason
        self.contentType = contentType
        self.etag = etag
        self.lastModified = lastModified
        self.body = body
    }

    init(head: ResponseHead, body: [UInt8]) {
        self.init(
            status: head.status, reason: head.reason, contentType: head.contentType, etag: head.value(of: "etag"),
            lastModified: head.value(of: "last-modified"), body: body)
    }

    private static let magic = "goedge-record 1"

    public func encoded() -> [UInt8] {
        var head = "\(Self.magic)\nstatus: \(status)\nreason: \(Self.clean(reason))\n"
        if let contentType { head += "content-type: \(Self.clean(contentType))\n" }
        if let etag { head += "etag: \(Self.clean(etag))\n" }
        if let lastModified { head += "last-modified: \(Self.clean(lastModified))\n" }
        head += "\n"
        return Array(head.utf8) + body
    }

    /// Nil for anything that is not a complete record.
    public init?(decoding bytes: [UInt8]) {
        guard let end = Self.endOfHead(bytes) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\n")
        guard lines.first == Substring(Self.magic) else { return nil }
        var fields: [Substring: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let valueStart = line.index(colon, offsetBy: 2, limitedBy: line.endIndex) ?? line.endIndex
            fields[line[..<colon]] = String(line[valueStart...])
        }
        guard let status = fields["status"].flatMap({ Int($0) }), let reason = fields["reason"] else { return nil }
        self.init(
            status: status, reason: reason, contentType: fields["content-type"], etag: fields["etag"],
            lastModified: fields["last-modified"], body: Array(bytes[(end + 2)...]))
    }

    private static func endOfHead(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") && bytes[index + 1] == UInt8(ascii: "\n") { return index }
            index += 1
        }
        return nil
    }

    /// Header values never hold line breaks; a hostile upstream's are dropped.
    private static func clean(_ value: String) -> String {
        String(value.filter { !$0.isNewline })
    }
}
