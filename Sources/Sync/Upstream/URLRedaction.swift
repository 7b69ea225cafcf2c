/// Keeps credentials out of logs and error answers: `user:secret@` in any
/// URL becomes `user:xxxxx@`, as the go command prints proxy URLs. An
/// authority also ends at `,` and `|`, so that every entry of an upstream
/// list written as one text is redacted.
public enum URLRedaction {
    public static func redact(_ text: String) -> String {
        guard text.contains("@") else { return text }
        var result = ""
        var rest = Substring(text)
        while let schemeEnd = Self.end(of: "://", in: rest) {
            result += rest[..<schemeEnd]
            rest = rest[schemeEnd...]
            let authorityEnd = rest.firstIndex { Self.endsAuthority.contains($0) } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                let user = userinfo.split(separator: ":", maxSplits: 1).first ?? ""
                result += userinfo.contains(":") ? "\(user):xxxxx@" : "xxxxx@"
                result += authority[authority.index(after: at)...]
            } else {
                result += authority
            }
            rest = rest[authorityEnd...]
        }
        return result + rest
    }

    /// One URL as given by a person (an upstream list entry) with all of
    /// its credentials hidden, even ones written wrongly: everything from
    /// the scheme to the last "@" (an unencoded "/" or "@" in a password
    /// would otherwise end the hidden part early).
    public static func redactEntry(_ url: String) -> String {
        guard let schemeEnd = end(of: "://", in: Substring(url)), let at = url.lastIndex(of: "@"), at >= schemeEnd else {
            return redact(url)
        }
        return String(url[..<schemeEnd]) + "xxxxx" + String(url[at...])
    }

    private static let endsAuthority: Set<Character> = ["/", " ", "\"", "'", ",", "|"]

    private static func end(of needle: String, in text: Substring) -> Substring.Index? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].hasPrefix(needle) { return text.index(index, offsetBy: needle.count) }
            index = text.index(after: index)
        }
        return nil
    }
}
