/// The reversible mapping between a group and the one directory name that
/// holds its files.
///
/// Bytes outside a small safe set are percent-encoded (so `/` becomes `%2F`
/// and the name is always a single path element), and a leading dot is
/// encoded too, so `.`, `..` and hidden names cannot occur. Groups stay
/// readable on disk: `example.com/!azure/sdk/@v/v1.2.3` is stored as
/// `example.com%2F!azure%2Fsdk%2F@v%2Fv1.2.3`.
enum GroupDirectoryName {
    /// Linux's NAME_MAX.
    static let maximumLength = 255

    static func encode(_ group: String) -> String? {
        var encoded: [UInt8] = []
        encoded.reserveCapacity(group.utf8.count + 16)
        for (offset, byte) in group.utf8.enumerated() {
            if isPlain(byte) && !(offset == 0 && byte == UInt8(ascii: ".")) {
                encoded.append(byte)
            } else {
                encoded.append(UInt8(ascii: "%"))
                encoded.append(hexDigit(byte >> 4))
                encoded.append(hexDigit(byte & 0xF))
            }
            if encoded.count > maximumLength { return nil }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// The group a directory name stands for, or nil when the name is not one
    /// this encoding produces (a stray directory, which the rebuild removes).
    static func decode(_ name: String) -> String? {
        var decoded: [UInt8] = []
        var bytes = name.utf8.makeIterator()
        while let byte = bytes.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = bytes.next().flatMap(hexValue), let low = bytes.next().flatMap(hexValue) else {
                    return nil
                }
                decoded.append(high << 4 | low)
            } else {
                guard isPlain(byte) else { return nil }
                decoded.append(byte)
            }
        }
        guard !decoded.isEmpty, let group = String(validating: decoded, as: UTF8.self) else { return nil }
        // Only canonical encodings are ours; anything else is a stray name.
        return encode(group) == name ? group : nil
    }

    private static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "!"),
            UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "="):
            true
        default:
            false
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Spreads groups over 256 shard directories so that no directory grows
    /// huge. FNV-1a: stable across runs and platforms, unlike `Hasher`.
    static func shard(of group: String) -> UInt8 {
        var hash: UInt32 = 2_166_136_261
        for byte in group.utf8 {
            hash ^= UInt32(byte)
            hash &*= 16_777_619
        }
        return UInt8(truncatingIfNeeded: hash ^ (hash >> 8) ^ (hash >> 16) ^ (hash >> 24))
    }

    static func shardDirectoryName(_ shard: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(shard >> 4)], digits[Int(shard & 0xF)]], as: UTF8.self)
    }
}
