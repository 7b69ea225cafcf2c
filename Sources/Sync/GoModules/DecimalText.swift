/// Version numbers as text (decimal digits without leading zeros, of any
/// length): compared without converting them, so no number from outside can
/// overflow an integer.
enum DecimalText {
    /// By length, then text; "" is least.
    static func compare(_ lhs: Substring, _ rhs: Substring) -> Int {
        if lhs == rhs { return 0 }
        if lhs.count != rhs.count { return lhs.count < rhs.count ? -1 : 1 }
        return lhs < rhs ? -1 : 1
    }
}
