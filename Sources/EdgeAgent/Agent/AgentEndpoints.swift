import NIOHTTP1
import Sync

/// The agent's own endpoints, under `/-/` (a path no module can have: a
/// module path's first element needs a dot).
///
/// - `GET /-/metrics`: Prometheus text format (see ``AgentMetrics``).
/// - `GET /-/healthz`, `GET /-/readyz`: JSON (see ``HealthEndpoints``).
/// - `POST /-/prefetch`: warm the cache for a workspace (see ``PrefetchEndpoint``).
/// - `/-/api/…`: the control API (see ``ControlAPI``).
///
/// Prefetch and the control API answer only peers the agent trusts
/// (`control-hosts`, loopback by default); metrics and health answer anyone
/// who can connect, as monitoring expects.
struct AgentEndpoints: Sendable {
    let prefetch: PrefetchEndpoint
    let health: HealthEndpoints
    let metrics: AgentMetrics
    let control: ControlAPI

    static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The reply for `path` (what follows `/-/`), or nil when there is no such endpoint.
    func reply(path: String, head: RequestHead, body: [UInt8], trusted: Bool) async -> AgentReply? {
        let readOnly = head.method == .GET || head.method == .HEAD
        switch path {
        case "metrics":
            guard readOnly else { return .methodNotAllowed(allow: "GET, HEAD") }
            return .body(metrics.scrape(), contentType: Self.prometheusContentType)
        case "healthz":
            guard readOnly else { return .methodNotAllowed(allow: "GET, HEAD") }
            return health.healthz()
        case "readyz":
            guard readOnly else { return .methodNotAllowed(allow: "GET, HEAD") }
            return health.readyz()
        case "prefetch":
            guard trusted else { return Self.forbidden }
            guard head.method == .POST else { return .methodNotAllowed(allow: "POST") }
            return prefetch.start(body: body)
        default:
            guard path.hasPrefix("api/") else { return nil }
            guard trusted else { return Self.forbidden }
            return await control.reply(path: String(path.dropFirst(4)), method: head.method.rawValue, body: body)
        }
    }

    static let forbidden = AgentReply.text(
        403, "this address may not use the control API; the agent's control-hosts setting lists who may")
}
