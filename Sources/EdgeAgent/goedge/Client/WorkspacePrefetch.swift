import Upstream
import Prefetch
import AgentServer

/// How `goedge prefetch` and `goedge watch` have a workspace prefetched.
///
/// Prefetching through the control API changes the cache, so the agent does
/// it only for root and its own user (over the unix socket) or a holder of
/// the control token (over TCP; read from the cache folder when this user
/// can). For anyone else, the command walks the module graph itself and has
/// the agent serve each file through the module protocol, as the go command
/// would: the same files end up cached, under the same policy and access
/// rules, without a privilege the user does not have.
struct WorkspacePrefetch {
    var agent: AgentClient
    /// How many files at a time when walking through the module protocol:
    /// each is a client request to the agent, which fetches misses at once,
    /// so this is what bounds the upstream connections such a prefetch opens.
    var concurrency = 16

    /// Why the command walks the graph itself, said once per run (or, for
    /// `goedge watch`, once per session).
    static func fallbackNotice(_ refusal: String) -> String {
        "the agent does not prefetch for this user (\(refusal)); fetching the workspace's modules through its "
            + "module protocol instead"
    }

    /// Runs the prefetch. `onFallback` is told when the agent refused and
    /// the command walks the graph itself. Throws when the agent cannot be
    /// reached or answered otherwise than with a prefetch or a refusal.
    mutating func run(
        _ files: WorkspaceFiles, onFallback: (String) -> Void, onEvent: @escaping @Sendable (PrefetchEvent) -> Void
    ) async throws(AgentClient.Failure) -> PrefetchSummary {
        if agent.controlToken == nil, case .tcp = agent.agent.address.kind, let status = try? await agent.status() {
            agent.takeControlToken(from: status)
        }
        do {
            return try await agent.prefetch(files, onEvent: onEvent)
        } catch let failure where failure.status == 403 {
            onFallback(Self.fallbackNotice(failure.refusal))
        }
        let job = PrefetchJob(source: ModuleProtocolSource(agent: agent), concurrency: concurrency)
        return await job.run(files, report: onEvent)
    }
}
