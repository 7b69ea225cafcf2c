import Foundation
import Logging
import Testing

@testable import AgentServer
@testable import goedge
@testable import GoedgeConfiguration

@Suite struct AgentLogHandlerTests {
    /// The lines a handler writes for `body`, read back from a pipe.
    private func lines(_ style: AgentLogHandler.Style, _ body: (inout Logger) -> Void) throws -> [String] {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        var logger = Logger(label: "test") { _ in AgentLogHandler(level: .info, style: style, output: fds[1]) }
        body(&logger)
        close(fds[1])
        let text = String(decoding: FileHandle(fileDescriptor: fds[0], closeOnDealloc: true).readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func journalLinesCarryTheirPriority() throws {
        let written = try lines(.journal) { logger in
            logger.info("GET /a 200")
            logger.debug("not shown")
            logger.error("failed", metadata: ["path": "/x y", "empty": ""])
        }
        #expect(written == ["<6>GET /a 200", "<3>failed empty=\"\" path=\"/x y\"", ""])
    }

    @Test func plainLinesCarryTimeAndLevel() throws {
        let long = String(repeating: "x", count: 20_000)
        let written = try lines(.plain) { logger in
            logger[metadataKey: "agent"] = "1"
            logger.notice("listening")
            logger.warning("\(long)")
        }
        #expect(written.count == 3)
        let pattern = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z note  listening agent=1/
        #expect(written[0].wholeMatch(of: pattern) != nil, "\(written[0])")
        #expect(written[1].hasSuffix("Z warn  \(long) agent=1"))
    }
}
