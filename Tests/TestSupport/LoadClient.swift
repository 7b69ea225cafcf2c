import Foundation

/// Tests/Fixtures/load-client: many concurrent keep-alive clients asking a
/// proxy for every file the fixture serves, each answer compared byte for
/// byte with the fixture's own, each request bounded in time.
public struct LoadClient {
    public struct Summary: Decodable, Sendable, CustomStringConvertible {
        public var requests: Int
        public var answered: Int
        public var unanswered: Int
        public var mismatched: Int
        public var statuses: [String: Int]
        public var failures: [String]?
        public var seconds: Double

        public var description: String {
            "\(requests) requests, \(answered) answered, \(unanswered) unanswered, \(mismatched) mismatched in \(seconds)s;"
                + " statuses \(statuses); \((failures ?? []).prefix(10).joined(separator: "; "))"
        }
    }

    public var clients = 8
    /// Longest wait for one answer: far beyond what any should take.
    public var requestTimeout: Duration = .seconds(20)
    /// The whole run's bound.
    public var deadline: Duration = .seconds(240)
    public var seed = 1

    public init(clients: Int = 8, seed: Int = 1) {
        self.clients = clients
        self.seed = seed
    }

    /// Asks `target` for every file `reference` (the fixture) lists, once each.
    public func run(target: String, reference: String) throws -> Summary {
        let result = try ChildProcess.run(
            try FixtureProgram.build("load-client"),
            [
                "-target", target, "-reference", reference, "-clients", "\(clients)", "-seed", "\(seed)",
                "-timeout", "\(requestTimeout.components.seconds)s", "-deadline", "\(deadline.components.seconds)s",
            ], timeout: deadline + .seconds(60))
        guard result.status == 0 else { throw TestFailure("load-client failed: \(result)") }
        return try JSONDecoder().decode(Summary.self, from: Data(result.output.utf8))
    }
}
