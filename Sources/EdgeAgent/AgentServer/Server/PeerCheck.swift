import NIOCore

/// Whether a connection's peer may use the control API.
enum PeerCheck {
    static func isTrusted(_ peer: SocketAddress?, hosts: [HostPattern]) -> Bool {
        switch peer {
        case .v4(let address):
            return hosts.contains { $0.contains(withUnsafeBytes(of: address.address.sin_addr.s_addr) { Array($0) }) }
        case .v6(let address):
            return hosts.contains { $0.contains(withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }) }
        case .unixDomainSocket:
            // Only processes that can open the socket file can connect.
            return true
        case nil:
            return false
        }
    }
}
