import NIOHTTP1
import Testing

@testable import AgentServer
@testable import goedge
@testable import GoedgeConfiguration

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
            parse("POST /-/prefetch HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nConnection: close\r\n\r\n")
                == .request(
                    RequestHead(method: .POST, uri: "/-/prefetch", version: .http1_1, keepAlive: false, contentLength: 12),
                    consumed: 77))
        // Methods are case-sensitive (RFC 9110 §9.1): these are not GET and HEAD.
        #expect(parse("get /a HTTP/1.1\r\nHost: x\r\n\r\n") == .request(RequestHead(method: .RAW(value: "get"), uri: "/a", version: .http1_1, keepAlive: true), consumed: 28))
        #expect(parse("GETS /a HTTP/1.1\r\nHost: x\r\n\r\n") == .request(RequestHead(method: .RAW(value: "GETS"), uri: "/a", version: .http1_1, keepAlive: true), consumed: 29))
        #expect(parse("HEA /a HTTP/1.1\r\nHost: x\r\n\r\n") == .request(RequestHead(method: .RAW(value: "HEA"), uri: "/a", version: .http1_1, keepAlive: true), consumed: 28))
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
        #expect(status("GET /a HTTP/2.0\r\nHost: x\r\n\r\n") == 505)
        #expect(status("GET /a HTTP/1.x\r\n\r\n") == 400)
        #expect(status("GET /a XTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET  HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n") == 411)
        #expect(status("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n") == 400)
        #expect(status("GET /a HTTP/1.1\r\nHost : x\r\n\r\n") == 400)
        #expect(status("POST /-/prefetch HTTP/1.1\r\nHost: x\r\nContent-Length: 1234567890123\r\n\r\n") == 400)
        // Two lengths would frame the body two ways: refused unless they agree (RFC 9112 §6.3).
        #expect(status("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") == 400)
        #expect(status("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n") == nil)
        // HTTP/1.1 needs exactly one Host (RFC 9112 §3.2); HTTP/1.0 none.
        #expect(status("GET /a HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n") == 400)
        #expect(status("GET /a HTTP/1.0\r\n\r\n") == nil)
        #expect(status("POST /a HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n") == 417)
        #expect(status("GET /\(String(repeating: "a", count: RequestHeadParser.maximumRequestLine))") == 414)
    }

    /// A head arriving a few bytes at a time is scanned from where the last
    /// read left off, and gives what it gives when it comes whole.
    @Test func aHeadInPiecesResumesWhereItStopped() {
        let head = "GET /example.com/m/@v/list HTTP/1.1\r\nHost: x\r\n"
            + (0..<90).map { "X-Filler-\($0): \(String(repeating: "v", count: 100))\r\n" }.joined() + "\r\n"
        let bytes = Array(head.utf8)
        var progress = RequestHeadParser.Progress()
        var last = RequestHeadParser.Outcome.needMoreBytes
        var end = 0
        while end < bytes.count {
            end = min(bytes.count, end + 3)
            last = bytes[..<end].withUnsafeBytes { RequestHeadParser.parse($0, progress: &progress) }
            if end < bytes.count { #expect(last == .needMoreBytes) }
            // Never behind where the complete lines end.
            #expect(progress.nextLine <= end)
        }
        #expect(last == parse(head))
        #expect(progress.nextLine > bytes.count - 200)
    }

    /// More header lines than any client sends are refused, whole or in pieces.
    @Test func tooManyHeaderLinesAreRefused() {
        let head = "GET /a HTTP/1.1\r\nHost: x\r\n" + String(repeating: "A: b\r\n", count: 100) + "\r\n"
        #expect(parse(head) == .refused(status: 431, reason: "more than 100 header lines"))
        var progress = RequestHeadParser.Progress()
        let bytes = Array(head.utf8)
        var outcome = RequestHeadParser.Outcome.needMoreBytes
        for end in Array(stride(from: 10, to: bytes.count, by: 10)) + [bytes.count] {
            outcome = bytes[..<end].withUnsafeBytes { RequestHeadParser.parse($0, progress: &progress) }
            if case .refused = outcome { break }
        }
        #expect(outcome == .refused(status: 431, reason: "more than 100 header lines"))
    }
}
