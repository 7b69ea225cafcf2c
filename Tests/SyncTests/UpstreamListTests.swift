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
    }
}
