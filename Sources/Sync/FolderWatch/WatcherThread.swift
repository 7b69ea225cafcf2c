#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts a folder watcher's loop on a thread of its own: it blocks in
/// `poll` for as long as the watcher lives, which would take a thread away
/// from any pool it ran on.
public enum WatcherThread {
    public static func start(_ work: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(WorkBox(work)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            Unmanaged<WorkBox>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, box)
        if result == 0 {
            pthread_detach(thread)
        } else {
            // No thread to be had: run here rather than not at all.
            Unmanaged<WorkBox>.fromOpaque(box).takeRetainedValue().run()
        }
    }

    private final class WorkBox {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
