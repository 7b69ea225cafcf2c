import LRUCache
import Synchronization

/// Uploads waiting for the shared store: a queue of bounded length, emptied
/// by a bounded number of uploads at once. A client never waits for one; a
/// full queue drops what does not fit (the caller counts it), so memory and
/// open files never grow with a backlog.
final class UploadQueue: Sendable {
    struct Job: Sendable {
        let key: String
        /// The committed file, pinned until uploaded.
        let file: CacheHit
    }

    private let capacity: Int
    private let concurrency: Int
    private let jobs: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation
    private let waiting = Atomic<Int>(0)

    init(capacity: Int, concurrency: Int) {
        self.capacity = capacity
        self.concurrency = concurrency
        (jobs, continuation) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Uploads waiting, and in progress.
    var queued: Int { waiting.load(ordering: .relaxed) }

    /// Queues `job`; false when the queue is full.
    func enqueue(_ job: Job) -> Bool {
        guard waiting.load(ordering: .relaxed) < capacity else { return false }
        waiting.add(1, ordering: .relaxed)
        guard case .enqueued = continuation.yield(job) else {
            waiting.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Runs the uploads, at most `concurrency` at once, for as long as the store lives.
    func start(_ store: SharedStore) {
        let jobs = self.jobs
        let concurrency = self.concurrency
        Task { [weak store, weak self] in
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for await job in jobs {
                    if running == concurrency {
                        await group.next()
                        running -= 1
                    }
                    guard let store else { return }
                    running += 1
                    group.addTask { [weak self] in
                        await store.upload(job)
                        self?.ended()
                    }
                }
            }
        }
    }

    private func ended() {
        waiting.subtract(1, ordering: .relaxed)
    }

    deinit { continuation.finish() }
}
