import Foundation
import Testing

@testable import AgentServer

@Suite struct ClientCredentialsTests {
    private func basic(_ text: String) -> String { "Basic " + Data(text.utf8).base64EncodedString() }

    @Test func onlyAListedUserWithItsTokenPasses() throws {
        let credentials = try ClientCredentials(parsing: "# jobs\nci:token-1\n\nrelease:token:with:colons\n")
        #expect(credentials.users == 2)
        #expect(credentials.user(authorizing: basic("ci:token-1")) == "ci")
        #expect(credentials.user(authorizing: basic("release:token:with:colons")) == "release")
        #expect(credentials.user(authorizing: basic("ci:token-2")) == nil)
        #expect(credentials.user(authorizing: basic("ci:token-1x")) == nil)
        #expect(credentials.user(authorizing: basic("nobody:token-1")) == nil)
        #expect(credentials.user(authorizing: "Bearer token-1") == nil)
        #expect(credentials.user(authorizing: "Basic %%%") == nil)
        #expect(credentials.user(authorizing: nil) == nil)
    }

    @Test func aBadFileSaysWhichLine() {
        #expect(throws: ClientCredentials.Problem(line: 2, message: "expected user:token")) {
            try ClientCredentials(parsing: "ci:t\njust-a-token\n")
        }
        #expect(throws: ClientCredentials.Problem(line: 2, message: "ci is listed twice")) {
            try ClientCredentials(parsing: "ci:a\nci:b\n")
        }
        #expect(throws: ClientCredentials.Problem(line: 1, message: "no user:token line")) { try ClientCredentials(parsing: "# empty\n") }
    }

    /// A file written on Windows (CRLF) works as written; a token with
    /// whitespace or a control character in it is refused, never kept as
    /// something no client can send.
    @Test func crlfLinesWorkAndTokensWithBlanksOrControlsAreRefused() throws {
        let credentials = try ClientCredentials(parsing: "# jobs\r\nci:token-1\r\nrelease:token-2\r\n")
        #expect(credentials.user(authorizing: basic("ci:token-1")) == "ci")
        #expect(credentials.user(authorizing: basic("release:token-2")) == "release")
        #expect(throws: ClientCredentials.Problem(line: 1, message: "the token has whitespace or a control character in it")) {
            try ClientCredentials(parsing: "ci:two words\n")
        }
        #expect(throws: ClientCredentials.Problem(line: 2, message: "the token has whitespace or a control character in it")) {
            try ClientCredentials(parsing: "ci:a\nrelease:b\u{7}\n")
        }
        #expect(throws: ClientCredentials.Problem(line: 1, message: "the user name has whitespace or a control character in it")) {
            try ClientCredentials(parsing: "c i:token\n")
        }
    }
}
