import NIOCore

/// Ends the agent after a quiet period, so that under socket activation it
/// costs nothing while nobody builds.
///
/// Quiet means: no connection open, no download or prefetch in flight, and
/// none of either for `timeout`. The check runs on the listening channels'
/// event loop and stops accepting right there, so a connection is either
/// accepted (and the agent is not idle) or left queued in the socket, which
/// systemd keeps, for the next start.
final class IdleExit: Sendable {
    private let timeout: Duration
    private let activity: ActivityTracker
    private let busy: @Sendable () -> Bool
    private let onIdle: @Sendable () -> Void
    private let task: NIOLoopBoundBox<RepeatedTask?>

    init(
        timeout: Duration, activity: ActivityTracker, loop: any EventLoop, busy: @escaping @Sendable () -> Bool,
        onIdle: @escaping @Sendable () -> Void
    ) {
        self.timeout = timeout
        self.activity = activity
        self.busy = busy
        self.onIdle = onIdle
        self.task = .makeEmptyBox(eventLoop: loop)
    }

    func start() {
        // Checking ten times per timeout (at most once a second) keeps the
        // exit within a tenth of the timeout of the moment it is due.
        let interval = min(Duration.seconds(1), timeout / 10)
        let loop = task.eventLoop
        loop.execute { [self] in
            task.value = loop.scheduleRepeatedTask(
                initialDelay: .nanoseconds(interval.nanoseconds), delay: .nanoseconds(interval.nanoseconds)
            ) { [self] repeated in
                if busy() || activity.openConnections > 0 {
                    activity.touch()
                } else if activity.idleFor >= timeout {
                    repeated.cancel()
                    onIdle()
                }
            }
        }
    }

    func stop() {
        task.eventLoop.execute { [self] in task.value?.cancel() }
    }
}
