import NIOCore
import NIOHTTP1
import Testing

@testable import AgentServer

@Suite struct ResponseHeadWriterTests {
    private func head(
        _ answer: AgentReply, version: HTTPVersion = .http1_1, contentLength: Int64?, keepAlive: Bool = true,
        chunked: Bool = false, extraHeader: (String, String)? = nil
    ) -> String {
        let answer =
            extraHeader.map {
                AgentReply(
                    status: answer.status, reason: answer.reason, contentType: answer.contentType, body: answer.body,
                    outcome: answer.outcome, warning: answer.warning, extraHeaders: [$0])
            } ?? answer
        var buffer = ByteBuffer()
        ResponseHeadWriter.write(
            version: version, answer: answer, contentLength: contentLength, keepAlive: keepAlive, chunked: chunked, into: &buffer)
        #expect(buffer.readableBytes <= ResponseHeadWriter.capacity(for: answer))
        return buffer.readString(length: buffer.readableBytes) ?? ""
    }

    private let ok = AgentReply(status: 200, reason: "OK", contentType: "application/zip", body: .bytes([]), outcome: .hit)

    @Test func writesStatusTypeLengthAndCacheOutcome() {
        #expect(
            head(ok, contentLength: 1_234_567_890_123)
                == "HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: 1234567890123\r\nX-Cache: hit\r\n\r\n")
        #expect(head(ok, contentLength: 0).contains("\r\nContent-Length: 0\r\n"))
    }

    @Test func saysHowTheConnectionGoesOn() {
        #expect(head(ok, contentLength: 1, keepAlive: false).hasSuffix("\r\nConnection: close\r\n\r\n"))
        #expect(head(ok, version: .http1_0, contentLength: 1).hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(head(ok, version: .http1_0, contentLength: 1).hasSuffix("\r\nConnection: keep-alive\r\n\r\n"))
        #expect(!head(ok, contentLength: 1).contains("Connection:"))
    }

    @Test func streamsWithoutALengthAreChunked() {
        let text = head(ok, contentLength: nil, chunked: true)
        #expect(text.contains("\r\nTransfer-Encoding: chunked\r\n"))
        #expect(!text.contains("Content-Length"))
    }

    @Test func upstreamTextCannotEndAHeaderLineEarly() {
        let answer = AgentReply(
            status: 502, reason: "Bad\r\nSet-Cookie: x=1", contentType: "text/plain\r\nX-Evil: 1", body: .bytes([]),
            outcome: .stale, warning: "110 - \"stale\"\n\u{7F}\u{0}")
        let text = head(answer, contentLength: 3, extraHeader: ("Allow", "GET,\rHEAD"))
        #expect(
            text
                == "HTTP/1.1 502 BadSet-Cookie: x=1\r\nContent-Type: text/plainX-Evil: 1\r\nContent-Length: 3\r\n"
                + "X-Cache: stale\r\nWarning: 110 - \"stale\"\r\nAllow: GET,HEAD\r\n\r\n")
    }

    @Test func longHeaderValuesFitTheEstimate() {
        let long = String(repeating: "x", count: 10_000)
        let answer = AgentReply(
            status: 200, reason: long, contentType: long, body: .bytes([]), outcome: .miss, warning: long)
        #expect(head(answer, contentLength: Int64.max, extraHeader: (long, long)).count > 50_000)
    }

    /// No status or length can be negative; one that is must not trap the agent.
    @Test func aNegativeNumberIsWrittenAsZero() {
        let odd = AgentReply(status: -1, reason: "odd", contentType: "text/plain", body: .bytes([]), outcome: .error)
        #expect(head(odd, contentLength: -5).hasPrefix("HTTP/1.1 0 odd\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"))
    }
}
