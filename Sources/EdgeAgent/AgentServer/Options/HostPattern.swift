#if canImport(Glibc)
import Glibc
#endif

/// An address or a network in CIDR notation: `127.0.0.1`, `10.0.0.0/8`,
/// `::1`, `fd00::/8`.
package struct HostPattern: Equatable, Sendable, CustomStringConvertible {
    /// The address bytes (4 or 16).
    package let network: [UInt8]
    package let prefixLength: Int

    package init?(parsing text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let bytes = Self.addressBytes(String(first)) else { return nil }
        let maximum = bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maximum).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = maximum
        }
        network = bytes
    }

    /// Whether `address` (4 or 16 bytes) is in this network. IPv4-mapped IPv6
    /// addresses (`::ffff:127.0.0.1`) match IPv4 patterns.
    package func contains(_ address: [UInt8]) -> Bool {
        var candidate = address
        if candidate.count == 16 && network.count == 4 && candidate[0..<10].allSatisfy({ $0 == 0 }) && candidate[10] == 0xFF
            && candidate[11] == 0xFF
        {
            candidate = Array(candidate[12...])
        }
        guard candidate.count == network.count else { return false }
        var remaining = prefixLength
        for (index, byte) in network.enumerated() where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if candidate[index] & mask != byte & mask { return false }
            remaining -= bits
        }
        return true
    }

    package var description: String {
        let address: String
        if network.count == 4 {
            address = network.map(String.init).joined(separator: ".")
        } else {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: network) }
            inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
            address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return prefixLength == network.count * 8 ? address : "\(address)/\(prefixLength)"
    }

    package static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
