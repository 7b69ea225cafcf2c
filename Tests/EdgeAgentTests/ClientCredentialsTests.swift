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
}
