/// Where a client command finds the agent: `http://HOST:PORT` or
/// `https://HOST:PORT` (the default is the configured listen address), or
/// `unix:/path/to.sock`.
package struct AgentURL: Equatable, CustomStringConvertible {
    package let address: ListenAddress
    /// Over HTTPS (an agent with `tls-certificate`).
    package let secure: Bool

    package init?(parsing text: String) {
        if text.hasPrefix("unix:") {
            guard let address = ListenAddress(parsing: text) else { return nil }
            self.address = address
            secure = false
            return
        }
        let scheme: String
        if text.hasPrefix("http://") {
            scheme = "http://"
        } else if text.hasPrefix("https://") {
            scheme = "https://"
        } else {
            return nil
        }
        secure = scheme == "https://"
        var rest = String(text.dropFirst(scheme.count))
        while rest.hasSuffix("/") { rest.removeLast() }
        guard !rest.contains("/"), let address = ListenAddress(parsing: rest) else { return nil }
        self.address = address
    }

    /// The agent at a listen address; a wildcard address is reached on loopback.
    package init(listen: ListenAddress, secure: Bool = false) {
        self.secure = secure
        switch listen.kind {
        case .tcp(let host, let port) where host == "0.0.0.0": address = ListenAddress(host: "127.0.0.1", port: port)
        case .tcp(let host, let port) where host == "::": address = ListenAddress(host: "::1", port: port)
        default: address = listen
        }
    }

    package var description: String {
        switch address.kind {
        case .unix: "\(address)"
        case .tcp: "\(secure ? "https" : "http")://\(address)"
        }
    }
}
