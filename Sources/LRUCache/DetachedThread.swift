#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs blocking work on a thread of its own, not on Dispatch's or Swift
/// concurrency's shared threads, which the work would otherwise starve
/// (on two cores, a scan of the cache folder would hold up the server's start).
package enum DetachedThread {
    /// Starts `work` on a new thread.
    package static func run(_ work: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(WorkBox(work)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let work = Unmanaged<WorkBox>.fromOpaque(context!).takeRetainedValue()
            work.run()
            return nil
        }, box)
        if result == 0 {
            pthread_detach(thread)
        } else {
            // No thread to be had: do the work here rather than not at all.
            Unmanaged<WorkBox>.fromOpaque(box).takeRetainedValue().run()
        }
    }

    /// Runs `work` on `count` threads (index 0..<count) and waits for all.
    package static func runAll(_ count: Int, _ work: @escaping @Sendable (Int) -> Void) {
        var threads: [pthread_t] = []
        for index in 1..<max(count, 1) {
            let box = Unmanaged.passRetained(WorkBox { work(index) }).toOpaque()
            var thread = pthread_t()
            if pthread_create(&thread, nil, { context in
                Unmanaged<WorkBox>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, box) == 0 {
                threads.append(thread)
            } else {
                Unmanaged<WorkBox>.fromOpaque(box).takeRetainedValue().run()
            }
        }
        work(0)
        for thread in threads { pthread_join(thread, nil) }
    }

    private final class WorkBox {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
