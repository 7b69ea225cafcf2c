import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin

/// The bodies of the control API (`/-/api/…`), shared by the agent and the
/// commands that call it.
package enum ControlMessages {
    package struct List: Codable, Sendable {
        package var pattern: String?
        package init(pattern: String?) { self.pattern = pattern }
    }

    package struct Remove: Codable, Sendable {
        package var module: String
        package var version: String?
        package init(module: String, version: String?) {
            self.module = module
            self.version = version
        }
    }

    package struct Prune: Codable, Sendable {
        package var toBytes: Int64?
        package var olderThanSeconds: Int64?
        package init(toBytes: Int64?, olderThanSeconds: Int64?) {
            self.toBytes = toBytes
            self.olderThanSeconds = olderThanSeconds
        }
    }

    /// One line of `POST /-/api/cache/verify`'s answer: progress, and at the end the report.
    package struct VerifyProgress: Codable, Sendable {
        package var checked: Int
        package var total: Int
        package var report: VerifyReport?
    }

    /// `POST /-/api/policy/check`: one module (and version) to judge.
    package struct PolicyCheck: Codable, Sendable {
        package var module: String
        package var version: String?
        package init(module: String, version: String?) {
            self.module = module
            self.version = version
        }
    }

    /// The answer to one imported file.
    package struct Imported: Codable, Sendable {
        package var stored: Bool
    }
}
