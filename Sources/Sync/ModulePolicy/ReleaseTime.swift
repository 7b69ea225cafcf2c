import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// When a version was published, as its publisher states it: a
/// pseudo-version carries its commit time
/// (`v0.0.0-20230301120000-abcdefabcdef`), any other version's `.info` its
/// `Time`. Nanoseconds since the epoch.
///
/// Both are written by whoever made the commit, so they can lie; the
/// cooldown dates versions by the checksum database's log where it can
/// (``ReleaseDating``). A time outside what `Int64` nanoseconds hold
/// (before 1678, after 2262: Go's zero time, year 9999) is unknown, never a
/// trap.
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
        guard seconds >= 0 else { return nil }
        return nanoseconds(seconds: Int64(seconds))
    }

    /// The `Time` of an `.info` or `@latest` answer (RFC 3339).
    public static func ofInfo(_ bytes: [UInt8]) -> Int64? {
        struct Info: Decodable {
            // swift-format-ignore: AlwaysUseLowerCamelCase
            let Time: String?
        }
        guard let text = (try? JSONDecoder().decode(Info.self, from: Data(bytes)))?.Time else { return nil }
        return InternetTime.nanoseconds(text)
    }

    /// Whole seconds as nanoseconds, or nil beyond what `Int64` holds.
    public static func nanoseconds(seconds: Int64) -> Int64? {
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? nil : product
    }
}
