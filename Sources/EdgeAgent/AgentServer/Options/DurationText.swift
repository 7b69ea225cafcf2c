/// A duration as Go writes them: `300ms`, `30s`, `5m`, `1h30m`, `2d`.
package enum DurationText {
    /// The longest duration taken: a century, far beyond any use, and far
    /// within what every clock and timer here can count.
    package static let maximum = Duration.seconds(100 * 366 * 86_400)

    /// The duration, or nil when the text is not one or is longer than ``maximum``.
    package static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimmed())
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return .zero }
        var total = Duration.zero
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number), value >= 0 else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let seconds: Double
            switch unit {
            case "ms": seconds = 0.001
            case "s": seconds = 1
            case "m": seconds = 60
            case "h": seconds = 3600
            case "d": seconds = 86400
            default: return nil
            }
            // Checked before converting: a Double beyond Int64 would trap.
            let milliseconds = (value * seconds * 1000).rounded()
            guard milliseconds.isFinite, milliseconds <= Double(maximum.components.seconds) * 1000 else { return nil }
            total += .milliseconds(Int64(milliseconds))
            guard total <= maximum else { return nil }
        }
        return total
    }

    /// Seconds with one decimal, for reports: `1.2s`.
    package static func formatSeconds(_ duration: Duration) -> String {
        let tenths = (duration.components.seconds * 10) + duration.components.attoseconds / 100_000_000_000_000_000
        return "\(tenths / 10).\(tenths % 10)s"
    }

    /// The shortest text that parses back to the same duration: `5m`, `1h30m`, `250ms`.
    package static func format(_ duration: Duration) -> String {
        var milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0" }
        var text = ""
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
            if milliseconds >= size {
                text += "\(milliseconds / size)\(unit)"
                milliseconds %= size
            }
        }
        return text
    }
}
