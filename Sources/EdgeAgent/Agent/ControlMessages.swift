import Sync

/// The bodies of the control API (`/-/api/…`), shared by the agent and the
/// commands that call it.
enum ControlMessages {
    struct List: Codable, Sendable {
        var pattern: String?
    }

    struct Remove: Codable, Sendable {
        var module: String
        var version: String?
    }

    struct Prune: Codable, Sendable {
        var toBytes: Int64?
        var olderThanSeconds: Int64?
    }

    /// One line of `POST /-/api/cache/verify`'s answer: progress, and at the end the report.
    struct VerifyProgress: Codable, Sendable {
        var checked: Int
        var total: Int
        var report: VerifyReport?
    }

    /// The answer to one imported file.
    struct Imported: Codable, Sendable {
        var stored: Bool
    }
}
