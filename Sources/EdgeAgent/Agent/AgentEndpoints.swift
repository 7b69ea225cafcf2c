import NIOHTTP1
import Sync

/// The agent's own endpoints, under `/-/` (a path no module can have: a
/// module path's first element needs a dot).
///
/// - `POST /-/prefetch`: warm the cache for a workspace (see ``PrefetchEndpoint``).
struct AgentEndpoints: Sendable {
    let prefetch: PrefetchEndpoint

    /// The reply for `path` (what follows `/-/`), or nil when there is no such endpoint.
    func reply(path: String, head: RequestHead, body: [UInt8]) async -> AgentReply? {
        switch path {
        case "prefetch":
            guard head.method == .POST else { return .methodNotAllowed(allow: "POST") }
            return prefetch.start(body: body)
        default:
            return nil
        }
    }
}
