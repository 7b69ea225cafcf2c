import Synchronization

/// The home of the proxy's work that outlives the request that started it:
/// a fetch other clients may join, read-ahead, a prefetch job. Each runs as
/// a child of one task group, which the agent runs as a service of its own:
/// so it is structured (nothing runs after the agent stops), and a shutdown
/// cancels what is left rather than leaving it behind.
public final class BackgroundWork: Sendable {
    public typealias Job = @Sendable () async -> Void

    private let jobs: AsyncStream<Job>
    private let submitter: AsyncStream<Job>.Continuation
    /// Jobs started and not yet ended (the idle exit waits for them).
    private let running = Atomic<Int>(0)

    public init() {
        (jobs, submitter) = AsyncStream.makeStream(of: Job.self)
    }

    /// Starts `job` as soon as the group takes it (at once while ``run()`` runs).
    public func submit(_ job: @escaping Job) {
        running.add(1, ordering: .relaxed)
        let counted: Job = { [self] in
            await job()
            running.subtract(1, ordering: .relaxed)
        }
        if case .terminated = submitter.yield(counted) {
            // Shut down: the job cannot run; it is not waited for.
            running.subtract(1, ordering: .relaxed)
        }
    }

    public var jobsRunning: Int { running.load(ordering: .relaxed) }

    /// Runs every submitted job as a child task until ``finish()``; then
    /// cancels those still running and returns once they have ended.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await job() }
            }
            group.cancelAll()
        }
    }

    /// No more jobs: ``run()`` cancels what is left and returns.
    public func finish() {
        submitter.finish()
    }
}
