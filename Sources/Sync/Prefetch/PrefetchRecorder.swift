import Synchronization
import ModuleProxy

/// Keeps one prefetch job's accounts, and reports each step.
final class PrefetchRecorder: Sendable {
    private struct State {
        var claimed: Set<ProxyResource> = []
        var modules: Set<String> = []
        var planned = 0
        var summary = PrefetchSummary()
    }
    private let state = Mutex(State())
    private let report: @Sendable (PrefetchEvent) -> Void

    init(report: @escaping @Sendable (PrefetchEvent) -> Void) {
        self.report = report
    }

    /// True the first time a resource is seen by this job.
    func claim(_ resource: ProxyResource) -> Bool {
        state.withLock { $0.claimed.insert(resource).inserted }
    }

    func plan(_ count: Int) {
        let planned = state.withLock { state in
            state.planned += count
            return state.planned
        }
        report(PrefetchEvent(kind: .plan, planned: planned))
    }

    func done(_ path: String, resource: ProxyResource, fetched: Bool, bytes: Int64) {
        state.withLock { state in
            if let (module, version) = resource.moduleVersion { state.modules.insert("\(module.path)@\(version.text)") }
            state.summary.files += 1
            state.summary.bytes += bytes
            if fetched { state.summary.fetched += 1 } else { state.summary.alreadyCached += 1 }
        }
        report(PrefetchEvent(kind: .file, path: path, outcome: fetched ? .fetched : .cached, bytes: bytes))
    }

    func failed(_ path: String, _ reason: String) {
        state.withLock { state in
            state.summary.files += 1
            state.summary.failed += 1
            state.summary.failures.append(reason)
        }
        report(PrefetchEvent(kind: .file, path: path, outcome: .failed, message: reason))
    }

    func problem(_ message: String) {
        state.withLock { state in
            state.summary.failed += 1
            state.summary.failures.append(message)
        }
        report(PrefetchEvent(kind: .problem, message: message))
    }

    /// A toolchain decision: what was warmed and why, or why nothing.
    func toolchain(_ line: String) {
        state.withLock { state in state.summary.toolchains = (state.summary.toolchains ?? []) + [line] }
        report(PrefetchEvent(kind: .toolchain, message: line))
    }

    func summary() -> PrefetchSummary {
        state.withLock { state in
            var summary = state.summary
            summary.modules = state.modules.count
            return summary
        }
    }
}
