import Foundation
import Synchronization
import AgentServer
import GoedgeConfiguration

/// Progress of a long command counted in items (`cache verify`, `cache
/// import`) on standard error: a line redrawn in place on a terminal, a
/// plain line every few seconds otherwise (a CI log).
final class CountProgress: Sendable {
    private let verb: String
    private let isTerminal: Bool
    private let lineInterval: Duration
    private let lastShown = Mutex<ContinuousClock.Instant?>(nil)

    init(verb: String, lineInterval: Duration = .seconds(5)) {
        self.verb = verb
        self.isTerminal = isatty(2) == 1
        self.lineInterval = lineInterval
    }

    func record(done: Int, of total: Int) {
        let now = ContinuousClock.now
        let interval = isTerminal ? Duration.milliseconds(100) : lineInterval
        let show = lastShown.withLock { last in
            guard done == total || last.map({ now - $0 >= interval }) ?? true else { return false }
            last = now
            return true
        }
        guard show else { return }
        let text = "\(verb) \(done) of \(total)"
        FileHandle.standardError.write(Data((isTerminal ? "\r\(text)\u{1B}[K" : text + "\n").utf8))
    }

    /// Ends a line drawn in place.
    func finish() {
        if isTerminal, lastShown.withLock({ $0 }) != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
