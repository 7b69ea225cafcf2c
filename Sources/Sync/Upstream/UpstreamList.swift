/// goedge's upstreams, written in the go command's own GOPROXY syntax.
///
/// URLs are joined by `,` (try the next only after a 404 or 410) or `|`
/// (try the next after any error, timeouts and refused connections
/// included); the separator after an entry decides. The keywords end the
/// list: `direct` and `off` both make goedge answer 404 once reached, since
/// goedge cannot fetch from version control. A client that lists goedge
/// before its own `direct` (`GOPROXY=http://127.0.0.1:7179,direct`) then
/// fetches such modules itself.
public struct UpstreamList: Sendable, Equatable, CustomStringConvertible {
    public enum Entry: Sendable, Equatable {
        case proxy(UpstreamURL, fallBackOnAnyError: Bool)
        case direct
        case off
    }

    public let entries: [Entry]

    public init(parsing text: String) throws(UpstreamListError) {
        var entries: [Entry] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            let item: Substring
            var fallBack = false
            if let separator = rest.firstIndex(where: { $0 == "," || $0 == "|" }) {
                item = rest[..<separator]
                fallBack = rest[separator] == "|"
                rest = rest[rest.index(after: separator)...]
            } else {
                item = rest
                rest = ""
            }
            let trimmed = String(item).trimmingCharacters(in: " \t\n")
            if trimmed.isEmpty { continue }
            if trimmed == "off" {
                entries.append(.off)
                break
            }
            if trimmed == "direct" {
                entries.append(.direct)
                break
            }
            entries.append(.proxy(try UpstreamURL(parsing: trimmed), fallBackOnAnyError: fallBack))
        }
        guard !entries.isEmpty else { throw UpstreamListError(entry: text, reason: "the list contains no entries") }
        self.entries = entries
    }

    /// The list as given, with credentials hidden.
    public var description: String {
        var text = ""
        for entry in entries {
            switch entry {
            case .proxy(let url, let fallBack): text += url.redacted + (fallBack ? "|" : ",")
            case .direct: text += "direct,"
            case .off: text += "off,"
            }
        }
        return String(text.dropLast())
    }

    /// True when no entry can fetch anything.
    public var isOffline: Bool {
        !entries.contains { if case .proxy = $0 { true } else { false } }
    }
}

/// One upstream proxy's base URL, which may carry a path prefix.
public struct UpstreamURL: Sendable, Equatable, CustomStringConvertible {
    /// `scheme://[userinfo@]host[:port][/prefix]`, without a trailing slash.
    public let base: String

    /// Parses like the go command: a bare host (`proxy.example.com`) means https.
    public init(parsing text: String) throws(UpstreamListError) {
        var url = text
        if !url.contains("://") && (url.contains(".") || url.contains(":") || url.contains("/")) {
            url = "https://" + url
        }
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw UpstreamListError(entry: text, reason: "only http:// and https:// upstreams are supported")
        }
        guard !url.contains(where: { $0 == "?" || $0 == "#" || $0 == " " || $0 == "\\" }) else {
            throw UpstreamListError(entry: text, reason: "an upstream URL cannot have a query, fragment or spaces")
        }
        let afterScheme = url[url.index(url.firstIndex(of: ":")!, offsetBy: 3)...]
        let authority = afterScheme.prefix { $0 != "/" }
        // Credentials must be percent-encoded: a raw "/" or "@" in them would
        // make libcurl read another host (and requests go there, or fail).
        if let at = afterScheme.firstIndex(of: "@"), let slash = afterScheme.firstIndex(of: "/"), slash < at {
            throw UpstreamListError(entry: text, reason: "a \"/\" in the credentials must be written %2F")
        }
        if authority.filter({ $0 == "@" }).count > 1 {
            throw UpstreamListError(entry: text, reason: "an \"@\" in the credentials must be written %40")
        }
        let host = authority.split(separator: "@").last.map(String.init) ?? ""
        guard !host.isEmpty, !host.hasPrefix(":") else {
            throw UpstreamListError(entry: text, reason: "missing host")
        }
        while url.hasSuffix("/") { url.removeLast() }
        base = url
    }

    /// The URL of a path below the base (`example.com/m/@v/list`).
    public func url(for path: String) -> String { base + "/" + path }

    public var redacted: String { URLRedaction.redact(base) }
    public var description: String { redacted }
}

public struct UpstreamListError: Error, Equatable, CustomStringConvertible {
    public let entry: String
    public let reason: String
    public var description: String { "invalid upstream \"\(URLRedaction.redactEntry(entry))\": \(reason)" }
}
