import Upstream

/// Where the proxy fetches what it does not have: the seam between the
/// caching logic and the network, as Go's modfetch has its `Repo`
/// interface. ``UpstreamChain`` (libcurl, the go command's fallback rules)
/// is the real one; tests put a scripted upstream in its place to drive
/// freshness, single flight and read-ahead in-process.
public protocol UpstreamFetching: Sendable {
    /// One request walked down the upstream list; never throws: failures
    /// are an outcome.
    func fetch(
        path: String, headers: [(name: String, value: String)], priority: TransferRequest.Priority, promotion: Promotion?,
        chooseSink: @escaping @Sendable (ResponseHead) -> any ResponseBodySink
    ) async -> UpstreamChain.Result

    /// A background fetch that a client now waits for was promoted: look at the queues again.
    func promoted()
}

extension UpstreamChain: UpstreamFetching {
    public func promoted() { engine.wakeUp() }
}

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
