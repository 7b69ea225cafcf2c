import NIOCore
import Synchronization

/// Counts open connections and remembers when the agent last did anything,
/// for the idle exit.
final class ActivityTracker: Sendable {
    private let connections = Atomic<Int>(0)
    /// Connections being served (not refused).
    private let served = Atomic<Int>(0)
    private let lastActivity = Atomic<Int64>(ActivityTracker.monotonicNow())

    var openConnections: Int { connections.load(ordering: .relaxed) }

    func connectionOpened() {
        connections.add(1, ordering: .relaxed)
        touch()
    }

    /// Counts a connection as served, unless `maximum` are served already.
    func startServing(maximum: Int) -> Bool {
        if served.add(1, ordering: .relaxed).newValue <= maximum { return true }
        served.subtract(1, ordering: .relaxed)
        return false
    }

    func stopServing() {
        served.subtract(1, ordering: .relaxed)
    }

    var servedConnections: Int { served.load(ordering: .relaxed) }

    func connectionClosed() {
        connections.subtract(1, ordering: .relaxed)
        touch()
    }

    func touch() {
        lastActivity.store(Self.monotonicNow(), ordering: .relaxed)
    }

    /// Time since the last connection opened or closed, or `touch()`.
    var idleFor: Duration {
        .nanoseconds(Self.monotonicNow() - lastActivity.load(ordering: .relaxed))
    }

    private static func monotonicNow() -> Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds)
    }
}

/// The connections open now, so that a shutdown that gives up waiting can
/// close them itself.
final class OpenConnections: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    func closeAll() {
        for channel in channels.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

/// Sits in a listening channel's pipeline and counts the connections it accepts.
final class ConnectionCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let tracker: ActivityTracker
    private let open: OpenConnections

    init(tracker: ActivityTracker, open: OpenConnections) {
        self.tracker = tracker
        self.open = open
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        tracker.connectionOpened()
        open.add(child)
        child.closeFuture.whenComplete { [tracker] _ in tracker.connectionClosed() }
        context.fireChannelRead(data)
    }
}
