import NIOHTTP1
import Testing

@testable import EdgeAgent

@Suite struct RequestHeadParserTests {
    private func parse(_ text: String) -> RequestHeadParser.Outcome {
        Array(text.utf8).withUnsafeBytes { RequestHeadParser.parse($0) }
    }

    @Test func readsMethodTargetVersionAndConnection() {
        #expect(
            parse("GET /example.com/m/@v/list HTTP/1.1\r\nHost: x\r\n\r\n")
                == .request(RequestHead(method: .GET, uri: "/example.com/m/@v/list", version: .http1_1, keepAlive: true), consumed: 48))
        #expect(
            parse("HEAD /a HTTP/1.0\r\n\r\n")
                == .request(RequestHead(method: .HEAD, uri: "/a", version: .http1_0, keepAlive: false), consumed: 20))
        #expect(
            parse("POST /-/prefetch HTTP/1.1\r\nContent-Length: 12\r\nConnection: close\r\n\r\n")
                == .request(
                    RequestHead(method: .POST, uri: "/-/prefetch", version: .http1_1, keepAlive: false, contentLength: 12),
                    consumed: 68))
        // Methods are case-sensitive (RFC 9110 §9.1): these are not GET and HEAD.
        #expect(parse("get /a HTTP/1.1\r\n\r\n") == .request(RequestHead(method: .RAW(value: "get"), uri: "/a", version: .http1_1, keepAlive: true), consumed: 19))
        #expect(parse("GETS /a HTTP/1.1\r\n\r\n") == .request(RequestHead(method: .RAW(value: "GETS"), uri: "/a", version: .http1_1, keepAlive: true), consumed: 20))
        #expect(parse("HEA /a HTTP/1.1\r\n\r\n") == .request(RequestHead(method: .RAW(value: "HEA"), uri: "/a", version: .http1_1, keepAlive: true), consumed: 19))
    }

    @Test func acceptsBareLineFeedsAndWaitsForTheWholeHead() {
        #expect(parse("GET /a HTTP/1.1\nHost: x\n\n") == .request(RequestHead(method: .GET, uri: "/a", version: .http1_1, keepAlive: true), consumed: 25))
        #expect(parse("GET /a HTTP/1.1\r\nHost: x\r\n") == .needMoreBytes)
        #expect(parse("GET /a HT") == .needMoreBytes)
        #expect(parse("") == .needMoreBytes)
    }

    @Test func refusesWhatCannotBeFramedSafely() {
        func status(_ text: String) -> Int? {
            if case .refused(let status, _) = parse(text) { return status }
            return nil
        }
        #expect(status("GET /a HTTP/2.0\r\n\r\n") == 505)
        #expect(status("GET /a HTTP/1.x\r\n\r\n") == 400)
        #expect(status("GET /a XTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET  HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 411)
        #expect(status("GET /a HTTP/1.1\r\nContent-Length: 1x\r\n\r\n") == 400)
        #expect(status("GET /a HTTP/1.1\r\nHost : x\r\n\r\n") == 400)
        #expect(status("POST /-/prefetch HTTP/1.1\r\nContent-Length: \(RequestHeadParser.maximumBody + 1)\r\n\r\n") == 413)
        // Imports may be as large as a module zip, and no larger.
        #expect(status("POST /-/api/cache/import/x HTTP/1.1\r\nContent-Length: \(RequestHeadParser.maximumBody + 1)\r\n\r\n") == nil)
        #expect(status("POST /-/api/cache/import/x HTTP/1.1\r\nContent-Length: \(RequestHeadParser.maximumImportBody + 1)\r\n\r\n") == 413)
        #expect(status("GET /\(String(repeating: "a", count: RequestHeadParser.maximumRequestLine))") == 414)
    }
}
