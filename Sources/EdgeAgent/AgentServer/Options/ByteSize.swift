/// A size given on the command line or in the configuration: `512MiB`,
/// `10GiB`, `1.5G`, `200000`. Binary units (`KiB`, `MiB`, `GiB`, `TiB`, and
/// the short `K`, `M`, `G`, `T`) count in 1024s; `kB`, `MB`, `GB`, `TB` in 1000s.
package struct ByteSize: Equatable, CustomStringConvertible {
    package let bytes: Int64

    package init(bytes: Int64) {
        self.bytes = bytes
    }

    package init?(parsing text: String) {
        let trimmed = text.trimmed()
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = String(trimmed.dropFirst(number.count)).trimmed().lowercased()
        guard !number.isEmpty, let value = Double(number), value >= 0 else { return nil }
        let multipliers: [String: Double] = [
            "": 1, "b": 1,
            "k": 0x1p10, "kib": 0x1p10, "m": 0x1p20, "mib": 0x1p20, "g": 0x1p30, "gib": 0x1p30, "t": 0x1p40,
            "tib": 0x1p40,
            "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let bytes = value * multiplier
        guard bytes < 9e18, bytes.rounded() == bytes || multiplier > 1 else { return nil }
        self.bytes = Int64(bytes.rounded())
    }

    package var description: String { Self.format(bytes) }

    /// The largest binary unit that keeps the figure readable: `10GiB`, `1.5MiB`.
    package static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 || value == value.rounded() { return "\(Int64(value.rounded()))\(units[unit])" }
        return "\((value * 10).rounded() / 10)\(units[unit])"
    }
}

extension String {
    /// Without leading and trailing blanks.
    package func trimmed(_ set: String = " \t\r\n") -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
