/// Where the agent listens: `HOST:PORT`, `[IPv6]:PORT`, or `unix:PATH`.
package struct ListenAddress: Equatable, CustomStringConvertible {
    package enum Kind: Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    package let kind: Kind

    package init?(parsing text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return nil }
            kind = .unix(path: path)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        kind = .tcp(host: host, port: port)
    }

    package init(host: String, port: Int) {
        kind = .tcp(host: host, port: port)
    }

    /// Loopback addresses and unix sockets are reachable from this host only.
    package var isLocalOnly: Bool {
        switch kind {
        case .unix: true
        case .tcp(let host, _): host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }

    package var description: String {
        switch kind {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}
