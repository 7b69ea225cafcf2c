/// What a prefetch reports as it goes, one event at a time (the agent
/// streams them to the client as JSON lines).
public struct PrefetchEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// How many files are planned so far.
        case plan
        /// One file: cached already, fetched, or failed.
        case file
        /// Something that could not be read or resolved (a go.mod that does not parse).
        case problem
        /// Which Go toolchain the workspace's go command will switch to, warmed or not, and why.
        case toolchain
        /// The end, with the summary.
        case done
    }

    public enum Outcome: String, Sendable, Codable {
        case cached, fetched, failed
    }

    public var kind: Kind
    public var path: String?
    public var outcome: Outcome?
    public var bytes: Int64?
    public var message: String?
    public var planned: Int?
    public var summary: PrefetchSummary?

    public init(
        kind: Kind, path: String? = nil, outcome: Outcome? = nil, bytes: Int64? = nil, message: String? = nil,
        planned: Int? = nil, summary: PrefetchSummary? = nil
    ) {
        self.kind = kind
        self.path = path
        self.outcome = outcome
        self.bytes = bytes
        self.message = message
        self.planned = planned
        self.summary = summary
    }
}

/// What a prefetch did.
public struct PrefetchSummary: Sendable, Codable, Equatable {
    /// Module versions touched.
    public var modules = 0
    public var files = 0
    public var bytes: Int64 = 0
    public var alreadyCached = 0
    public var fetched = 0
    public var failed = 0
    /// One line per failure or problem: what, and why.
    public var failures: [String] = []
    /// One line per toolchain decision: the toolchain warmed and why, or why none.
    public var toolchains: [String]? = nil

    public init() {}
}
