import NIOHTTP1

/// The agent's own endpoints, under `/-/` (a path no module can have: a
/// module path's first element needs a dot).
///
/// - `GET /-/metrics`: Prometheus text format (see ``AgentMetrics``).
/// - `GET /-/healthz`, `GET /-/readyz`: JSON (see ``HealthEndpoints``).
/// - `POST /-/prefetch`: warm the cache for a workspace (see ``PrefetchEndpoint``).
/// - `/-/api/…`: the control API (see ``ControlAPI``).
///
/// Who may use which is ``Admission``'s to decide (the endpoint says which
/// kind of access it is, ``access(path:)``); what each takes (methods, the
/// size of its body) is decided here, on the head alone
/// (``accept(path:method:)``), before any of its body is read.
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

    /// What an endpoint does with a request it may serve, decided on its head.
    enum Acceptance: Equatable {
        /// Answered with this reply; no body is read.
        case refuse(status: Int, message: String, allow: String? = nil)
        /// Served, with a body of at most `bodyLimit` bytes (0: none).
        case serve(bodyLimit: Int)
    }

    /// The kind of access a path is, for ``Admission``; nil: no such endpoint.
    func access(path: String) -> Admission.Access? {
        switch path {
        case "metrics", "healthz", "readyz": return .monitoring
        case "prefetch": return .cacheChange
        default:
            guard path.hasPrefix("api/") else { return nil }
            return ControlAPI.changesTheCache(String(path.dropFirst(4))) ? .cacheChange : .control
        }
    }

    func accept(path: String, method: HTTPMethod) -> Acceptance {
        let readOnly = method == .GET || method == .HEAD
        switch path {
        case "metrics", "healthz", "readyz":
            return readOnly ? .serve(bodyLimit: 0) : Self.methodNotAllowed("GET, HEAD")
        case "prefetch":
            return method == .POST ? .serve(bodyLimit: Self.prefetchBodyLimit) : Self.methodNotAllowed("POST")
        default:
            guard path.hasPrefix("api/") else { return .refuse(status: 404, message: "no agent endpoint /-/\(path)") }
            return control.accept(path: String(path.dropFirst(4)), method: method)
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

    static func methodNotAllowed(_ allow: String) -> Acceptance {
        .refuse(status: 405, message: "this endpoint takes \(allow)", allow: allow)
    }
}

/// What the connection handler needs of the agent's own endpoints.
protocol AgentEndpointServing: Sendable {
    func access(path: String) -> Admission.Access?
    func accept(path: String, method: HTTPMethod) -> AgentEndpoints.Acceptance
    func reply(path: String, head: RequestHead, body: RequestBody) async -> AgentReply
}

extension AgentEndpoints: AgentEndpointServing {}
