/// Where a client command finds the agent: `http://HOST:PORT` (the default
/// is the configured listen address), or `unix:/path/to.sock`.
package struct AgentURL: Equatable, CustomStringConvertible {
    package let address: ListenAddress

    package init?(parsing text: String) {
        if text.hasPrefix("unix:") {
            guard let address = ListenAddress(parsing: text) else { return nil }
            self.address = address
            return
        }
        guard text.hasPrefix("http://") else { return nil }
        var rest = String(text.dropFirst("http://".count))
        while rest.hasSuffix("/") { rest.removeLast() }
        guard !rest.contains("/"), let address = ListenAddress(parsing: rest) else { return nil }
        self.address = address
    }

    /// The agent at a listen address; a wildcard address is reached on loopback.
    package init(listen: ListenAddress) {
        switch listen.kind {
        case .tcp(let host, let port) where host == "0.0.0.0": address = ListenAddress(host: "127.0.0.1", port: port)
        case .tcp(let host, let port) where host == "::": address = ListenAddress(host: "::1", port: port)
        default: address = listen
        }
    }

    package var description: String {
        switch address.kind {
        case .unix: "\(address)"
        case .tcp: "http://\(address)"
        }
    }
}
