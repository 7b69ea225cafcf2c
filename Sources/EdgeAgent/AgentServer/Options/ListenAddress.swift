#if canImport(Glibc)
import Glibc
#endif

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
    /// A host name counts as local only when every address it resolves to is
    /// a loopback one (`127.anything.example` may well resolve elsewhere).
    package var isLocalOnly: Bool {
        switch kind {
        case .unix: return true
        case .tcp(let host, _):
            let addresses = Self.resolve(host)
            return !addresses.isEmpty && addresses.allSatisfy(Self.isLoopback)
        }
    }

    /// The addresses `host` stands for (an address literal stands for itself).
    static func resolve(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [[UInt8]] = []
        var entry = list
        while let current = entry {
            if current.pointee.ai_family == AF_INET {
                current.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    addresses.append(withUnsafeBytes(of: address.pointee.sin_addr) { Array($0) })
                }
            } else if current.pointee.ai_family == AF_INET6 {
                current.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    addresses.append(withUnsafeBytes(of: address.pointee.sin6_addr) { Array($0) })
                }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    /// 127.0.0.0/8, or ::1.
    static func isLoopback(_ address: [UInt8]) -> Bool {
        address.count == 4 ? address[0] == 127 : address == [UInt8](repeating: 0, count: 15) + [1]
    }

    package var description: String {
        switch kind {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}
