/// The part of an S3 ListObjectsV2 answer goedge reads: each object's key
/// and when the store last modified it, and where the next page starts.
/// Read by hand, bounded, from whatever the store sends (no XML library:
/// the static binary would have to carry one for these few fields).
public struct BucketListing: Sendable, Equatable {
    public struct Object: Sendable, Equatable {
        public let key: String
        /// `LastModified`, as the store wrote it (ISO 8601).
        public let lastModified: String
    }

    public var objects: [Object] = []
    /// The continuation token of the next page, when truncated.
    public var nextToken: String?

    /// At most this many objects are read from one page (S3 sends 1,000).
    static let maximumObjects = 1000

    public init(parsing bytes: [UInt8]) {
        let text = String(decoding: bytes.prefix(4 << 20), as: UTF8.self)
        var rest = Substring(text)
        while objects.count < Self.maximumObjects, let contents = Self.element("Contents", in: &rest) {
            var inner = contents
            guard let key = Self.element("Key", in: &inner).map(Self.unescape) else { continue }
            var dated = contents
            let modified = Self.element("LastModified", in: &dated).map(String.init) ?? ""
            objects.append(Object(key: key, lastModified: modified))
        }
        var whole = Substring(text)
        if var truncated = Optional(whole), let flag = Self.element("IsTruncated", in: &truncated), flag == "true" {
            nextToken = Self.element("NextContinuationToken", in: &whole).map(Self.unescape)
        }
    }

    /// The text of the next `<name>…</name>` in `text`, which moves past it.
    private static func element(_ name: String, in text: inout Substring) -> Substring? {
        guard let open = text.range(of: "<\(name)>"), let close = text[open.upperBound...].range(of: "</\(name)>") else { return nil }
        let value = text[open.upperBound..<close.lowerBound]
        text = text[close.upperBound...]
        return value
    }

    private static func unescape(_ text: Substring) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
