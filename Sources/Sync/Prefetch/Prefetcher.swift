import CoreMetrics
import Synchronization
import ModuleProxy

/// The agent's prefetch service: warms the cache with everything a workspace
/// needs (a ``PrefetchJob`` through the agent's own proxy), so that the next
/// `go build` finds it all on this host. Runs as background work, a few
/// files at a time, sharing in-flight fetches with clients; keeps the last
/// jobs for `goedge status`.
public final class Prefetcher: Sendable {
    public let proxy: ModuleProxy
    public let concurrency: Int
    private let jobs = Atomic<Int>(0)
    private let history = Mutex(PrefetchHistory())
    private let jobsCounter = Counter(label: "goedge_prefetch_jobs_total")
    private let modulesCounter = Counter(label: "goedge_prefetch_modules_total")
    private let failuresCounter = Counter(label: "goedge_prefetch_failures_total")

    public init(proxy: ModuleProxy, concurrency: Int) {
        self.proxy = proxy
        self.concurrency = max(1, concurrency)
    }

    /// The last prefetches, newest first, and what `goedge watch` last said it watches.
    public var recent: PrefetchHistory { history.withLock { $0 } }

    /// Prefetch jobs running now (the idle exit waits for them).
    public var jobsInFlight: Int { jobs.load(ordering: .relaxed) }

    public func run(_ files: WorkspaceFiles, report: @escaping @Sendable (PrefetchEvent) -> Void) async -> PrefetchSummary {
        jobs.add(1, ordering: .relaxed)
        defer { jobs.subtract(1, ordering: .relaxed) }
        let job = PrefetchJob(source: ProxyPrefetchSource(proxy: proxy), concurrency: concurrency)
        let summary = await job.run(files, report: report)
        jobsCounter.increment()
        modulesCounter.increment(by: Int64(summary.modules))
        failuresCounter.increment(by: Int64(summary.failed))
        history.withLock { $0.add(PrefetchRecord(files: files, summary: summary), watchedFolders: files.watchedFolders) }
        return summary
    }
}
