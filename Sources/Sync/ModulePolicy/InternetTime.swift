/// A time in RFC 3339's form (`2023-03-01T12:00:00Z`,
/// `2023-03-01T12:00:00.123456789+01:00`), as an `.info`'s `Time` and an S3
/// `LastModified` give it, parsed here rather than by Foundation: the
/// parser under `ISO8601DateFormatter` (ICU's) trapped with a division
/// error on a fraction of 80 digits, and these texts come from upstreams and
/// buckets. Nanoseconds since the epoch; nil for anything else, and for a
/// time `Int64` nanoseconds cannot hold (before 1678, after 2262).
public enum InternetTime {
    public static func nanoseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        // The date and time (19 bytes), an optional fraction, a zone.
        guard bytes.count >= 20, bytes.count <= 64 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for index in start..<(start + count) {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ index: Int, is expected: Character...) -> Bool {
            index < bytes.count && expected.contains(Character(UnicodeScalar(bytes[index])))
        }
        guard let year = digits(0, 4), byte(4, is: "-"), let month = digits(5, 2), byte(7, is: "-"), let day = digits(8, 2),
            byte(10, is: "T", "t"), let hour = digits(11, 2), byte(13, is: ":"), let minute = digits(14, 2), byte(16, is: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if byte(index, is: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                // Beyond nanoseconds, digits are read and dropped.
                if index - start < 9 { fraction = fraction * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                index += 1
            }
            guard index > start else { return nil }
            for _ in min(index - start, 9)..<9 { fraction *= 10 }
        }
        var offset: Int64 = 0
        if byte(index, is: "Z", "z"), index + 1 == bytes.count {
        } else if byte(index, is: "+", "-"), index + 6 == bytes.count, let zoneHour = digits(index + 1, 2), byte(index + 3, is: ":"),
            let zoneMinute = digits(index + 4, 2), zoneHour <= 23, zoneMinute <= 59
        {
            offset = (zoneHour * 60 + zoneMinute) * 60 * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second - offset
        guard let whole = ReleaseTime.nanoseconds(seconds: seconds) else { return nil }
        let (total, overflow) = whole.addingReportingOverflow(fraction)
        return overflow ? nil : total
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
    /// (Howard Hinnant's days_from_civil); years here have four digits.
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
