import NIOCore
import NIOPosix

/// The one home for file work that may block (fsync, rename, reading a
/// zip's directory, deleting evicted folders, scanning the folder at
/// start): a pool of threads of its own, so that neither the event loops
/// nor Swift's cooperative threads (as few as the cores) ever wait on the
/// disk. Work that waits on something else never runs here.
public enum BlockingIO {
    /// More threads than cores: they mostly wait for the disk, and one
    /// miss's fsync must not hold up another's.
    static let threads = 8

    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }()

    /// Runs `work` on the pool and returns its result.
    public static func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await pool.runIfActive(work)
    }

    /// Runs `work` on the pool, its result completing on `loop`: for work
    /// an event loop hands off and goes on with.
    public static func run<Result: Sendable>(
        completingOn loop: any EventLoop, _ work: @escaping @Sendable () throws -> Result
    ) -> EventLoopFuture<Result> {
        pool.runIfActive(eventLoop: loop, work)
    }

    /// Runs `work` on the pool; nobody waits for it.
    public static func submit(_ work: @escaping @Sendable () -> Void) {
        pool.submit { state in
            if state == .active { work() }
        }
    }
}
