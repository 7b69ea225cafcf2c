import Foundation

/// The users and tokens that may fetch modules (`client-credentials-file`):
/// HTTP Basic, as the go command sends it for any GOPROXY from `.netrc` or
/// from the URL (over HTTPS only: through a TLS front). Tokens come from a
/// file only, never from the command line, and are never logged; they are
/// kept and compared as ``SecretDigest``s.
package struct ClientCredentials: Sendable {
    private let digests: [String: SecretDigest]
    /// Compared against when the user is unknown, so that the time says nothing either.
    private static let nobody = SecretDigest(of: "")

    package var users: Int { digests.count }

    package struct Problem: Error, Equatable, CustomStringConvertible {
        package let line: Int
        package let message: String
        package var description: String { "\(line): \(message)" }
    }

    /// Lines of `user:token` (LF or CRLF); blank lines and `#` comments are
    /// skipped. A user or token with whitespace or a control character in it
    /// is refused: no client could send it as written.
    package init(parsing text: String) throws(Problem) {
        var digests: [String: SecretDigest] = [:]
        // Split on scalars: Swift takes "\r\n" as one Character, so a split on "\n" alone would miss it.
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, scalars) in lines.enumerated() {
            let line = String(String.UnicodeScalarView(scalars.last == "\r" ? scalars.dropLast() : scalars[...]))
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw Problem(line: index + 1, message: "expected user:token")
            }
            let user = String(trimmed[..<colon])
            let token = String(trimmed[trimmed.index(after: colon)...])
            guard !user.isEmpty, !token.isEmpty else { throw Problem(line: index + 1, message: "expected user:token, neither empty") }
            guard !Self.hasBlankOrControl(user) else {
                throw Problem(line: index + 1, message: "the user name has whitespace or a control character in it")
            }
            guard !Self.hasBlankOrControl(token) else {
                throw Problem(line: index + 1, message: "the token has whitespace or a control character in it")
            }
            guard digests[user] == nil else { throw Problem(line: index + 1, message: "\(user) is listed twice") }
            digests[user] = SecretDigest(of: token)
        }
        guard !digests.isEmpty else { throw Problem(line: 1, message: "no user:token line") }
        self.digests = digests
    }

    private static func hasBlankOrControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
    }

    /// The user an `Authorization: Basic …` value names, when its token is right.
    package func user(authorizing header: String?) -> String? {
        guard let header, header.count < 4096 else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        let user = String(text[..<colon])
        let offered = text[text.index(after: colon)...]
        guard let expected = digests[user] else {
            _ = Self.nobody.matches(offered)
            return nil
        }
        return expected.matches(offered) ? user : nil
    }
}
