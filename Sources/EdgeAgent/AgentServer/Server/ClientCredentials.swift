import Crypto
import Foundation

/// The users and tokens that may fetch modules (`client-credentials-file`):
/// HTTP Basic, as the go command sends it for any GOPROXY from `.netrc` or
/// from the URL. Tokens come from a file only, never from the command line,
/// and are never logged; they are compared as SHA-256 digests in constant
/// time, so that neither a token's length nor its first differing byte shows
/// in how long a refusal takes.
package struct ClientCredentials: Sendable {
    private let digests: [String: [UInt8]]

    package var users: Int { digests.count }

    package struct Problem: Error, Equatable, CustomStringConvertible {
        package let line: Int
        package let message: String
        package var description: String { "\(line): \(message)" }
    }

    /// Lines of `user:token`; blank lines and `#` comments are skipped.
    package init(parsing text: String) throws(Problem) {
        var digests: [String: [UInt8]] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw Problem(line: index + 1, message: "expected user:token")
            }
            let user = String(trimmed[..<colon])
            let token = String(trimmed[trimmed.index(after: colon)...])
            guard !user.isEmpty, !token.isEmpty else { throw Problem(line: index + 1, message: "expected user:token, neither empty") }
            guard digests[user] == nil else { throw Problem(line: index + 1, message: "\(user) is listed twice") }
            digests[user] = Array(SHA256.hash(data: Array(token.utf8)))
        }
        guard !digests.isEmpty else { throw Problem(line: 1, message: "no user:token line") }
        self.digests = digests
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
        let offered = Array(SHA256.hash(data: Array(text[text.index(after: colon)...].utf8)))
        // Compared whether or not the user exists, so that the time says nothing either.
        let expected = digests[user] ?? [UInt8](repeating: 0, count: offered.count)
        var difference: UInt8 = digests[user] == nil ? 1 : 0
        for (left, right) in zip(offered, expected) { difference |= left ^ right }
        return difference == 0 ? user : nil
    }
}
