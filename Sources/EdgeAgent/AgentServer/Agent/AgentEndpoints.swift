import NIOHTTP1

/// The agent's own endpoints, under `/-/` (a path no module can have: a
/// module path's first element needs a dot).
///
/// - `GET /-/metrics`: Prometheus text format (see ``AgentMetrics``).
/// - `GET /-/healthz`, `GET /-/readyz`: JSON (see ``HealthEndpoints``).
/// - `POST /-/prefetch`: warm the cache for a workspace (see ``PrefetchEndpoint``).
/// - `/-/api/…`: the control API (see ``ControlAPI``).
///
/// Prefetch and the control API answer only peers the agent trusts
/// (`control-hosts`, loopback by default); of those, only root and goedge's
/// own user (over the unix socket) or a holder of the control token (over
/// TCP) may change the cache (prefetch, remove, prune, import): an imported
/// file is what every other user's build then receives, and a prefetch
/// fills the cache as its caller chooses. (`goedge prefetch` run by anyone
/// else fetches through the module protocol instead, as any client may.)
/// Metrics and health answer anyone who can connect, as monitoring expects.
///
/// Whether a request is served is decided on its head alone (``admit(path:method:caller:)``),
/// before any of its body is read: a body is read only for an endpoint
/// that takes one, from a peer that may use it, and no longer than that
/// endpoint accepts.
struct AgentEndpoints: Sendable {
    let prefetch: PrefetchEndpoint
    let health: HealthEndpoints
    let metrics: AgentMetrics
    let control: ControlAPI

    static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"
    /// A workspace's go.mod, go.work and go.sum files.
    static let prefetchBodyLimit = 16 << 20
    /// A control request's JSON.
    static let controlBodyLimit = 1 << 20

    /// What the agent does with a request, decided on its head.
    enum Admission: Equatable {
        /// Answered with this reply; no body is read.
        case refuse(status: Int, message: String, allow: String? = nil)
        /// Served, with a body of at most `bodyLimit` bytes (0: none).
        case serve(bodyLimit: Int)
    }

    /// Who asks, for the control API.
    struct Caller: Equatable {
        /// A control host (or the unix socket): may use the control API.
        var trusted: Bool
        /// May change the cache (prefetch, remove, prune, import): root or goedge's own
        /// user over the unix socket, or a TCP client with the control token.
        var mayChange: Bool
    }

    func admit(path: String, method: HTTPMethod, caller: Caller) -> Admission {
        let trusted = caller.trusted
        let readOnly = method == .GET || method == .HEAD
        switch path {
        case "metrics", "healthz", "readyz":
            return readOnly ? .serve(bodyLimit: 0) : Self.methodNotAllowed("GET, HEAD")
        case "prefetch":
            guard trusted else { return Self.forbidden }
            guard method == .POST else { return Self.methodNotAllowed("POST") }
            guard caller.mayChange else {
                RefusalMetrics.count(.control)
                return Self.changeForbidden
            }
            return .serve(bodyLimit: Self.prefetchBodyLimit)
        default:
            guard path.hasPrefix("api/") else { return .refuse(status: 404, message: "no agent endpoint /-/\(path)") }
            guard trusted else { return Self.forbidden }
            let endpoint = String(path.dropFirst(4))
            if ControlAPI.changesTheCache(endpoint) && !caller.mayChange {
                RefusalMetrics.count(.control)
                return Self.changeForbidden
            }
            return control.admit(path: endpoint, method: method)
        }
    }

    /// The reply to an admitted request.
    func reply(path: String, head: RequestHead, body: RequestBody) async -> AgentReply {
        switch path {
        case "metrics": return .body(metrics.scrape(), contentType: Self.prometheusContentType)
        case "healthz": return health.healthz()
        case "readyz": return health.readyz()
        case "prefetch": return prefetch.start(body: await body.collect())
        default: return await control.reply(path: String(path.dropFirst(4)), method: head.method, body: body)
        }
    }

    static func methodNotAllowed(_ allow: String) -> Admission {
        .refuse(status: 405, message: "this endpoint takes \(allow)", allow: allow)
    }

    static let changeForbidden = Admission.refuse(
        status: 403,
        message: "changing the cache needs root or goedge's own user (over the unix socket) or the control token "
            + "(over TCP: goedge's commands send the cache folder's control-token when they can read it)")

    static let forbidden = Admission.refuse(
        status: 403, message: "this address may not use the control API; the agent's control-hosts setting lists who may")
}

/// What the connection handler needs of the agent's own endpoints.
protocol AgentEndpointServing: Sendable {
    func admit(path: String, method: HTTPMethod, caller: AgentEndpoints.Caller) -> AgentEndpoints.Admission
    func reply(path: String, head: RequestHead, body: RequestBody) async -> AgentReply
}

extension AgentEndpoints: AgentEndpointServing {}
