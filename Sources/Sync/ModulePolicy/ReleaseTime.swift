import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// When a version was published, as goedge can learn it: a pseudo-version
/// carries its commit time (`v0.0.0-20230301120000-abcdefabcdef`), any
/// other version's `.info` its `Time`. Nanoseconds since the epoch.
public enum ReleaseTime {
    /// The time in a pseudo-version, or nil for any other version.
    public static func ofPseudoVersion(_ version: String) -> Int64? {
        var text = Substring(version)
        if text.hasSuffix("+incompatible") { text = text.dropLast("+incompatible".count) }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let revision = parts.last, revision.count == 12, revision.allSatisfy(\.isHexDigit) else { return nil }
        let stamp = parts[parts.count - 2].split(separator: ".").last ?? ""
        guard stamp.count == 14, stamp.allSatisfy(\.isASCII), stamp.allSatisfy(\.isNumber) else { return nil }
        let digits = Array(stamp.utf8).map { Int($0 - UInt8(ascii: "0")) }
        func number(_ range: Range<Int>) -> Int32 { Int32(digits[range].reduce(0) { $0 * 10 + $1 }) }
        var fields = tm()
        fields.tm_year = number(0..<4) - 1900
        fields.tm_mon = number(4..<6) - 1
        fields.tm_mday = number(6..<8)
        fields.tm_hour = number(8..<10)
        fields.tm_min = number(10..<12)
        fields.tm_sec = number(12..<14)
        let seconds = timegm(&fields)
        return seconds < 0 ? nil : Int64(seconds) * 1_000_000_000
    }

    /// The `Time` of an `.info` or `@latest` answer (RFC 3339).
    public static func ofInfo(_ bytes: [UInt8]) -> Int64? {
        struct Info: Decodable {
            // swift-format-ignore: AlwaysUseLowerCamelCase
            let Time: String?
        }
        guard let text = (try? JSONDecoder().decode(Info.self, from: Data(bytes)))?.Time else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970) * 1_000_000_000 }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970) * 1_000_000_000 }
        return nil
    }
}
