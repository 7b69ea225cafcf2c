import Synchronization

/// Says `READY=1` once both the cache index is loaded and the listeners
/// serve, whichever comes last.
final class Readiness: Sendable {
    private struct State {
        var indexLoaded = false
        var serving = false
        var announced = false
    }
    private let state = Mutex(State())
    private let announce: @Sendable () -> Void

    init(announce: @escaping @Sendable () -> Void) {
        self.announce = announce
    }

    func indexLoaded() { update { $0.indexLoaded = true } }
    func serving() { update { $0.serving = true } }

    private func update(_ change: (inout State) -> Void) {
        let ready = state.withLock { state -> Bool in
            change(&state)
            guard state.indexLoaded && state.serving && !state.announced else { return false }
            state.announced = true
            return true
        }
        if ready { announce() }
    }
}
