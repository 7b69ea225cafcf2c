import LRUCache
import Synchronization

/// Lets go of the code pages a burst of work touched once it has been over
/// for a while (see ``ResidentMemory``): an agent that stays up between
/// builds holds, while it waits, what it really uses.
final class QuietTrim: Sendable {
    private struct State {
        var lastWork = ContinuousClock.now
        var workedSinceTrim = false
    }
    private let state = Mutex(State())
    private let quiet: Duration
    private let trim: @Sendable () -> Void

    init(quiet: Duration = .seconds(10), trim: @escaping @Sendable () -> Void = { BlockingIO.submit { ResidentMemory.trim() } }) {
        self.quiet = quiet
        self.trim = trim
    }

    /// Called every few seconds: `working` while a connection is open or a
    /// download or prefetch runs.
    func check(working: Bool, now: ContinuousClock.Instant = .now) {
        let due = state.withLock { state in
            if working {
                state.lastWork = now
                state.workedSinceTrim = true
                return false
            }
            guard state.workedSinceTrim, now - state.lastWork >= quiet else { return false }
            state.workedSinceTrim = false
            return true
        }
        if due { trim() }
    }
}
