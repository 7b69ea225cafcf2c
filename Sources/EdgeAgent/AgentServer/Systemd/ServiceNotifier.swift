import CSystemd

/// Tells the service manager how goedge is doing, through `sd_notify`:
/// `READY=1` once it serves, `STATUS=` lines, `STOPPING=1`, and `WATCHDOG=1`
/// pings. Does nothing when not run by systemd (`NOTIFY_SOCKET` unset).
struct ServiceNotifier: Sendable {
    func notify(_ assignments: String) {
        _ = sd_notify(0, assignments)
    }

    func ready(status: String) {
        notify("READY=1\nSTATUS=\(status)")
    }

    func status(_ text: String) {
        notify("STATUS=\(text)")
    }

    func stopping() {
        notify("STOPPING=1\nSTATUS=stopping")
    }

    func watchdog() {
        notify("WATCHDOG=1")
    }

    /// How often the service manager expects `WATCHDOG=1` (`WATCHDOG_USEC`), if at all.
    static func watchdogInterval() -> Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds))
    }
}
