import Upstream

#if canImport(Glibc)
import Glibc
#endif

/// The time of day in nanoseconds since the epoch, as the store records
/// it: a seam so that tests move time on instead of sleeping past a TTL.
public protocol WallClock: Sendable {
    func now() -> Int64
}

/// The system's clock.
public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

#if canImport(Glibc)
import Glibc
#endif
