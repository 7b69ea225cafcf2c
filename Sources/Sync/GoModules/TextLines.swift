extension StringProtocol {
    /// The lines of a text file, LF or CRLF. (`split(separator: "\n")` misses
    /// CRLF lines: Swift reads `"\r\n"` as one Character.)
    package var textLines: [SubSequence] {
        split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    }
}
