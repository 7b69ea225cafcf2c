import Foundation
import Synchronization
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// How `goedge prefetch` and `goedge watch` talk to the agent: over its own
/// listening socket, so that under socket activation the request starts it.
struct AgentClient: Sendable {
    let agent: AgentURL
    private let engine: CurlEngine
    /// Sent to change the cache over TCP, when this user could read it (see ``ControlToken``).
    var controlToken: String?
    /// The cache folders this command is configured with: the only places
    /// a control token is read from.
    let tokenFolders: [String]

    /// Why the agent could not do what was asked.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// Nothing listens there (as opposed to an agent that failed).
        var unreachable = false
        /// The agent's answer, when it refused (its status, and its text).
        var status: Int?
        var refusal = ""
    }

    /// `trustedCertificates`: the certificates to trust over HTTPS instead
    /// of the system's (the agent's own); nil: the system's.
    init(agent: AgentURL, trustedCertificates: String? = nil, tokenFolders: [String] = []) {
        self.agent = agent
        self.tokenFolders = tokenFolders
        // A prefetch may stay quiet while the agent waits on a large download
        // upstream; the agent gives up on stalled downloads itself.
        engine = CurlEngine(
            configuration: UpstreamClientConfiguration(
                connectTimeout: .seconds(10), stallTimeout: .seconds(600), userAgent: "goedge/\(GoEdge.version)",
                trustedCertificatesFile: trustedCertificates))
    }

    func shutdown() {
        engine.shutdown()
    }

    /// Sends a workspace to prefetch; `onEvent` sees each step as the agent
    /// reports it. Returns the agent's summary.
    func prefetch(
        _ files: WorkspaceFiles, onEvent: @escaping @Sendable (PrefetchEvent) -> Void
    ) async throws(Failure) -> PrefetchSummary {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(files))
        } catch {
            throw Failure(description: "cannot encode the workspace: \(error)")
        }
        let summary = SummaryBox()
        let decoder = JSONDecoder()
        let answer = try await stream("/-/prefetch", body: body) { line in
            guard let event = try? decoder.decode(PrefetchEvent.self, from: Data(line)) else { return }
            if event.kind == .done, let final = event.summary { summary.set(final) }
            onEvent(event)
        }
        guard answer.status == 200 else {
            throw Failure(
                description: "the agent at \(agent) answered \(answer.status) \(answer.reason)"
                    + (answer.text.isEmpty ? "" : ": " + answer.text),
                status: answer.status, refusal: answer.text)
        }
        guard let final = summary.value else {
            throw Failure(description: "the agent at \(agent) stopped before the prefetch was done")
        }
        return final
    }

    /// An answer of the control API, whole.
    struct Answer: Sendable {
        var status: Int
        var reason: String
        var body: [UInt8]

        /// The body as text, trimmed: what an error answer says (without the
        /// `goedge: ` the agent puts before its own messages for the go command).
        var text: String {
            let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.hasPrefix("goedge: ") ? String(text.dropFirst("goedge: ".count)) : text
        }
    }

    /// Sends a request (a POST when `body` is given, else a GET) and returns
    /// the answer. Throws only when the agent cannot be reached.
    func call(_ path: String, body: [UInt8]? = nil, contentType: String = "application/json") async throws(Failure) -> Answer {
        let request = TransferRequest(
            url: url(path), headers: (body == nil ? [] : [("Content-Type", contentType), ("Expect", "")]) + authorization, body: body,
            unixSocketPath: socketPath, bypassesProxy: true
        ) { _ in ErrorBodySink(limit: 256 << 20) }
        return try await answer(to: request)
    }

    /// Sends a POST whose answer is JSON lines, handing each line to `onLine`
    /// as it arrives. Returns the status (and, unless 200, the body's text).
    func stream(
        _ path: String, body: [UInt8], onLine: @escaping @Sendable ([UInt8]) -> Void
    ) async throws(Failure) -> Answer {
        let request = TransferRequest(
            url: url(path), headers: [("Content-Type", "application/json"), ("Expect", "")] + authorization, body: body,
            unixSocketPath: socketPath, bypassesProxy: true
        ) { head in
            head.status == 200 ? JSONLineSink(onLine: onLine) as any ResponseBodySink : ErrorBodySink()
        }
        return try await answer(to: request)
    }

    /// The agent's status (`GET /-/api/status`). Throws when the agent
    /// cannot be reached (``Failure/unreachable``) or answers otherwise.
    func status() async throws(Failure) -> AgentStatusReport {
        let answer = try await call("/-/api/status")
        guard answer.status == 200 else {
            throw Failure(
                description: "the agent at \(agent) answered \(answer.status) \(answer.reason): \(answer.text)",
                status: answer.status, refusal: answer.text)
        }
        do {
            return try JSONDecoder().decode(AgentStatusReport.self, from: Data(answer.body))
        } catch {
            throw Failure(description: "the agent at \(agent) answered with a status goedge cannot read: \(error)")
        }
    }

    /// Takes the control token, when this user may read it (root and the
    /// agent's own user only: others may look, not change), and only for an
    /// agent that is on this host (loopback or a unix socket) and names, in
    /// `status`, a cache folder this command is configured with. So
    /// whatever else answers at `--agent` never learns the token, nor names
    /// the folder it is read from.
    mutating func takeControlToken(from status: AgentStatusReport) {
        guard agent.address.isLocalOnly,
            let folder = tokenFolders.first(where: { Self.sameFolder(status.cache.directory, $0) })
        else { return }
        controlToken = ControlToken.read(in: folder)
    }

    static func sameFolder(_ first: String, _ second: String) -> Bool {
        URL(fileURLWithPath: first).resolvingSymlinksInPath().path == URL(fileURLWithPath: second).resolvingSymlinksInPath().path
    }

    /// Sends a GET through the agent's module protocol (`path` without its
    /// leading slash), the body going to the sink `chooseSink` picks for the
    /// answer's head. Throws only when the agent cannot be reached.
    func get(
        _ path: String, chooseSink: @escaping @Sendable (ResponseHead) -> any ResponseBodySink
    ) async throws(Failure) -> (ResponseHead, any ResponseBodySink) {
        let request = TransferRequest(url: url("/" + path), unixSocketPath: socketPath, bypassesProxy: true, chooseSink: chooseSink)
        let result = await engine.perform(request)
        switch result.outcome {
        case .failed(let error):
            throw Failure(description: "cannot fetch /\(path) from the agent at \(agent): \(error)", unreachable: error.kind == .connect)
        case .response(let head, let sink):
            return (head, sink)
        }
    }

    /// Performs a request; the body kept is what an ``ErrorBodySink`` collected.
    private func answer(to request: TransferRequest) async throws(Failure) -> Answer {
        let result = await engine.perform(request)
        switch result.outcome {
        case .failed(let error):
            throw Failure(description: "cannot reach the agent at \(agent): \(error)\(hint(for: error))", unreachable: error.kind == .connect)
        case .response(let head, let sink):
            return Answer(status: head.status, reason: head.reason, body: (sink as? ErrorBodySink)?.bytes ?? [])
        }
    }

    private var authorization: [(String, String)] {
        controlToken.map { [("Authorization", "Bearer " + $0)] } ?? []
    }

    private var socketPath: String? {
        if case .unix(let path) = agent.address.kind { return path }
        return nil
    }

    private func url(_ path: String) -> String {
        switch agent.address.kind {
        case .unix: "http://localhost" + path
        case .tcp: agent.description + path
        }
    }

    private func hint(for error: TransportError) -> String {
        switch error.kind {
        case .connect:
            return " (is the agent running? systemctl --user start goedge.socket, or goedge serve; --agent picks another)"
        case .tls:
            return " (goedge trusts the agent's own certificate when tls-certificate names it, else the system's)"
        default:
            return ""
        }
    }
}

/// The summary, once the `done` event brought it.
private final class SummaryBox: Sendable {
    private let summary = Mutex<PrefetchSummary?>(nil)
    var value: PrefetchSummary? { summary.withLock { $0 } }
    func set(_ value: PrefetchSummary) { summary.withLock { $0 = value } }
}
