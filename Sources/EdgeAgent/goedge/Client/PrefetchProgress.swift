import Foundation
import Synchronization
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// Shows a prefetch's progress as the agent reports it: a bar redrawn in
/// place on a terminal; on anything else (a CI log) a plain line every few
/// seconds. Problems are shown as they come. Goes to standard error, so
/// standard output holds only the summary.
final class PrefetchProgress: Sendable {
    enum Style: Sendable { case bar, lines }

    private struct State {
        var planned = 0
        var files = 0
        var bytes: Int64 = 0
        var failed = 0
        var lastShown: ContinuousClock.Instant?
        var barShown = false
    }
    private let state = Mutex(State())
    private let style: Style
    private let clock = ContinuousClock()
    private let lineInterval: Duration

    init(style: Style, lineInterval: Duration = .seconds(5)) {
        self.style = style
        self.lineInterval = lineInterval
    }

    /// A bar when standard error is a terminal, lines otherwise.
    static func forStandardError() -> PrefetchProgress {
        PrefetchProgress(style: isatty(2) == 1 ? .bar : .lines)
    }

    func record(_ event: PrefetchEvent) {
        var output = ""
        state.withLock { state in
            switch event.kind {
            case .plan:
                state.planned = event.planned ?? state.planned
            case .file:
                state.files += 1
                state.bytes += event.bytes ?? 0
                if event.outcome == .failed {
                    state.failed += 1
                    output += clearBar(&state) + "failed: \(event.message ?? event.path ?? "?")\n"
                }
            case .problem:
                output += clearBar(&state) + "problem: \(event.message ?? "?")\n"
            case .toolchain:
                return
            case .done:
                output += clearBar(&state)
                return
            }
            let now = clock.now
            switch style {
            case .bar:
                guard state.lastShown.map({ now - $0 >= .milliseconds(100) }) ?? true || state.files == state.planned else { return }
                state.lastShown = now
                state.barShown = true
                output += "\r" + Self.bar(state) + "\u{1B}[K"
            case .lines:
                guard state.lastShown.map({ now - $0 >= lineInterval }) ?? true else { return }
                state.lastShown = now
                output += "prefetch: \(state.files) of \(state.planned) files, \(ByteSize.format(state.bytes))"
                    + (state.failed > 0 ? ", \(state.failed) failed" : "") + "\n"
            }
        }
        if !output.isEmpty { FileHandle.standardError.write(Data(output.utf8)) }
    }

    private func clearBar(_ state: inout State) -> String {
        guard state.barShown else { return "" }
        state.barShown = false
        state.lastShown = nil
        return "\r\u{1B}[K"
    }

    private static func bar(_ state: State) -> String {
        let width = 30
        let done = state.planned == 0 ? 0 : min(width, state.files * width / state.planned)
        return "[" + String(repeating: "#", count: done) + String(repeating: "-", count: width - done) + "] "
            + "\(state.files)/\(state.planned) files  \(ByteSize.format(state.bytes))"
            + (state.failed > 0 ? "  \(state.failed) failed" : "")
    }

    /// The summary, as `goedge prefetch` ends with it.
    static func describe(_ summary: PrefetchSummary, duration: Duration) -> String {
        var text = "\(summary.modules) modules, \(summary.files) files, \(ByteSize.format(summary.bytes)): "
        text += "\(summary.alreadyCached) already cached, \(summary.fetched) fetched, \(summary.failed) failed"
        text += " (\(DurationText.formatSeconds(duration)))"
        return text
    }
}
