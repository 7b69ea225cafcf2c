import Testing

@testable import GoModules
@testable import Upstream
@testable import ModuleProxy
@testable import Prefetch
@testable import CacheAdmin
@testable import FolderWatch

@Suite struct UpstreamListTests {
    @Test func parsesTheGoCommandsSyntax() throws {
        let list = try UpstreamList(parsing: " https://a.example/prefix/ | http://b.example:8080 ,proxy.example.com,direct,https://ignored")
        #expect(
            list.entries == [
                .proxy(try UpstreamURL(parsing: "https://a.example/prefix"), fallBackOnAnyError: true),
                .proxy(try UpstreamURL(parsing: "http://b.example:8080"), fallBackOnAnyError: false),
                .proxy(try UpstreamURL(parsing: "https://proxy.example.com"), fallBackOnAnyError: false),
                .direct,
            ])
        #expect(list.entries.first.map { if case .proxy(let url, _) = $0 { url.url(for: "m/@v/list") } else { "" } } == "https://a.example/prefix/m/@v/list")
        #expect(try UpstreamList(parsing: "off").isOffline)
        #expect(try UpstreamList(parsing: "off,https://x.example").entries == [.off])
        #expect(try UpstreamList(parsing: ",,https://x.example,").entries.count == 1)
    }

    @Test(arguments: ["", " , ", "ftp://x.example", "file:///srv/goproxy", "https://", "https://x.example/?q=1", "https://x.example/#f", "notaurl"])
    func rejectsWhatCannotWork(text: String) {
        #expect(throws: UpstreamListError.self) { try UpstreamList(parsing: text) }
    }

    @Test func hidesCredentials() throws {
        let list = try UpstreamList(parsing: "https://user:secret@a.example|https://token@b.example")
        #expect(list.description == "https://user:xxxxx@a.example|https://xxxxx@b.example")
        let error = #expect(throws: UpstreamListError.self) { try UpstreamList(parsing: "ftp://user:secret@a.example") }
        #expect(error?.description.contains("secret") == false)
        #expect(URLRedaction.redact("Failed to connect to https://u:p@h.example:443/x after 5 ms") == "Failed to connect to https://u:xxxxx@h.example:443/x after 5 ms")
    }
}

@Suite struct ResponseHeadParserTests {
    @Test func keepsTheFinalResponseOfARedirectChain() {
        var parser = ResponseHeadParser()
        for line in [
            "HTTP/1.1 302 Found\r\n", "Location: /mod/x\r\n", "Content-Length: 0\r\n", "\r\n",
            "HTTP/1.1 404 Not Found\r\n", "Content-Type: text/plain; charset=utf-8\r\n", "X-Odd:  spaced value \r\n", "\r\n",
        ] {
            parser.consume(line: Substring(line))
        }
        #expect(parser.head?.status == 404)
        #expect(parser.head?.reason == "Not Found")
        #expect(parser.head?.contentType == "text/plain; charset=utf-8")
        #expect(parser.head?.value(of: "x-odd") == "spaced value")
        #expect(parser.head?.value(of: "location") == nil)
    }

    @Test func http2HasNoReasonPhrase() {
        var parser = ResponseHeadParser()
        parser.consume(line: "HTTP/2 410 \r\n")
        #expect(parser.head?.reason == "Gone")
        #expect(parser.head?.majorVersion == 2 && parser.head?.endIsSignalled == true)
    }

    /// A line that looks like a status line inside a head is a bad header
    /// field, not a new response: an upstream cannot swap the answer so.
    @Test func aStatusLineInsideAHeadIsNotANewResponse() {
        var parser = ResponseHeadParser()
        for line in ["HTTP/1.1 404 Not Found\r\n", "HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "\r\n"] {
            parser.consume(line: Substring(line))
        }
        #expect(parser.head?.status == 404)
        #expect(parser.head?.contentLength == 5)
    }

    @Test(arguments: ["HTTP/1.1 99 Low\r\n", "HTTP/1.1 1000 High\r\n", "HTTP/1.1 -12 Odd\r\n", "HTTP/1.1 2x0 Odd\r\n", "garbage\r\n"])
    func statusCodesOutside100To999MakeTheHeadUnusable(line: String) {
        var parser = ResponseHeadParser()
        parser.consume(line: Substring(line))
        #expect(parser.head == nil)
        #expect(parser.malformed != nil)
    }

    /// Only a body whose end the protocol marks can be known whole.
    @Test func knowsWhenABodysEndIsSignalled() {
        #expect(ResponseHead(status: 200, reason: "OK", headers: [("content-length", "3")]).endIsSignalled)
        #expect(ResponseHead(status: 200, reason: "OK", headers: [("transfer-encoding", "chunked")]).endIsSignalled)
        #expect(ResponseHead(status: 200, reason: "OK", majorVersion: 2).endIsSignalled)
        #expect(!ResponseHead(status: 200, reason: "OK").endIsSignalled)
        #expect(ResponseHead(status: 200, reason: "OK", headers: [("content-length", "-3")]).contentLength == nil)
    }

    @Test func redactsCredentialsButNotPaths() {
        #expect(URLRedaction.redact("GET https://ci:s3cret@proxy.example.com/m/@v/list") == "GET https://ci:xxxxx@proxy.example.com/m/@v/list")
        #expect(URLRedaction.redact("https://proxy.example.com:3000/m/@v/v1.0.0.zip") == "https://proxy.example.com:3000/m/@v/v1.0.0.zip")
        // An entry written wrongly (refused anyway) shows none of its password.
        #expect(URLRedaction.redactEntry("https://ci:pa/ss@proxy.example.com") == "https://xxxxx@proxy.example.com")
        #expect(URLRedaction.redactEntry("https://ci:p@ss@proxy.example.com") == "https://xxxxx@proxy.example.com")
        // Every entry of an upstream list as written (goedge config shows it so).
        #expect(URLRedaction.redact("https://a.example,https://alice:secret@b.example") == "https://a.example,https://alice:xxxxx@b.example")
        #expect(URLRedaction.redact("https://a.example|https://alice:secret@b.example|direct") == "https://a.example|https://alice:xxxxx@b.example|direct")
        #expect(URLRedaction.redact(#""https://x:1@a.example,https://y:2@b.example""#) == #""https://x:xxxxx@a.example,https://y:xxxxx@b.example""#)
    }
}
