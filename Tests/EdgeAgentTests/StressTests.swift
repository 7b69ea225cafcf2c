import Foundation
import Testing
import TestSupport

extension Integration {
    /// Many clients at once over a whole cold corpus: every request is
    /// answered, byte for byte as the upstream answers it.
    @Suite struct Stress {
        /// 150 modules, 450 versions, 1,350 files; the upstream answers each
        /// request after 30 ms, like a WAN. With read-ahead on, the
        /// background work and the clients' own requests meet on nearly every
        /// file: this is where a client once waited forever on a read-ahead
        /// transfer the engine had dropped while promoting it.
        static let corpus = "corpus:150"

        @Test(arguments: [1, 2]) func everyRequestIsAnsweredWithReadAhead(seed: Int) throws {
            try run(seed: seed, arguments: [])
        }

        @Test func everyRequestIsAnsweredWithoutReadAhead() throws {
            try run(seed: 3, arguments: ["--no-read-ahead"])
        }

        private func run(seed: Int, arguments: [String]) throws {
            let upstream = try GoProxyFixture(catalog: Self.corpus, delay: .milliseconds(30))
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(
                upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--log-level", "notice"] + arguments)
            let summary = try LoadClient(clients: 8, seed: seed).run(target: agent.url, reference: upstream.url)
            #expect(summary.requests == 1350, "\(summary)")
            #expect(summary.unanswered == 0 && summary.mismatched == 0, "\(summary)")
            #expect(summary.statuses == ["200": 1350], "\(summary)")
            #expect(agent.terminate() == 0, "\(agent.log)")
        }
    }
}
