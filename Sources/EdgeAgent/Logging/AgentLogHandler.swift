import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes log lines to standard error, one `write` per line.
///
/// Under systemd (`JOURNAL_STREAM` set) each line starts with its syslog
/// priority (`<6>`, `<3>`, …) and carries no timestamp, so the journal keeps
/// both the level and its own time; otherwise lines read
/// `2026-11-21T17:45:03.120Z info  message key=value`.
struct AgentLogHandler: LogHandler {
    enum Style: Sendable { case plain, journal }

    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    private let style: Style
    private static let output = Mutex<Int32>(2)

    init(level: Logger.Level, style: Style) {
        self.logLevel = level
        self.style = style
    }

    /// Journal style exactly when standard error is the journal's stream.
    static func style(environment: [String: String]) -> Style {
        environment["JOURNAL_STREAM"].map { _ in .journal } ?? .plain
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var text: String
        switch style {
        case .journal: text = "<\(Self.priority(event.level))>"
        case .plain: text = Self.timestamp() + " " + Self.name(event.level) + " "
        }
        text += event.message.description
        var merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        if let error = event.error { merged["error"] = "\(error)" }
        for key in merged.keys.sorted() {
            let value = "\(merged[key]!)"
            text += " \(key)=" + (value.contains(" ") || value.isEmpty ? "\"\(value)\"" : value)
        }
        text += "\n"
        Self.output.withLock { fd in
            text.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if written <= 0 && errno != EINTR { break }
                    offset += max(written, 0)
                }
            }
        }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info "
        case .notice: "note "
        case .warning: "warn "
        case .error: "error"
        case .critical: "crit "
        }
    }

    /// The date and time to the second, formatted once per second.
    private static let secondPrefix = Mutex<(second: Int, text: String)>((-1, ""))

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let prefix = secondPrefix.withLock { cached -> String in
            if cached.second == now.tv_sec { return cached.text }
            var parts = tm()
            var seconds = now.tv_sec
            gmtime_r(&seconds, &parts)
            func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
            let text = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
            cached = (now.tv_sec, text)
            return text
        }
        let millis = now.tv_nsec / 1_000_000
        return prefix + (millis < 10 ? ".00" : millis < 100 ? ".0" : ".") + String(millis) + "Z"
    }
}
