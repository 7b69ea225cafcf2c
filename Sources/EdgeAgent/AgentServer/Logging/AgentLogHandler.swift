import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes log lines to standard error, one `writev` per line.
///
/// Under systemd (`JOURNAL_STREAM` set) each line starts with its syslog
/// priority (`<6>`, `<3>`, …) and carries no timestamp, so the journal keeps
/// both the level and its own time; otherwise lines read
/// `2026-11-21T17:45:03.120Z info  message key=value`.
///
/// With one line per request at info level this runs for every request, so
/// a line's parts go out as they are (prefix, message, newline), not joined
/// into a new String first.
package struct AgentLogHandler: LogHandler {
    package enum Style: Sendable { case plain, journal, json }

    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    private let style: Style
    private let output: Int32
    /// Lines from several threads must not interleave.
    private static let writing = Mutex(())

    package init(level: Logger.Level, style: Style, output: Int32 = 2) {
        self.logLevel = level
        self.style = style
        self.output = output
    }

    /// Journal style exactly when standard error is the journal's stream;
    /// JSON when asked for (`log-format = json`) outside it.
    package static func style(environment: [String: String], json: Bool = false) -> Style {
        if environment["JOURNAL_STREAM"] != nil { return .journal }
        return json ? .json : .plain
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        if style == .json {
            logJSON(event)
            return
        }
        var message = event.message.description
        if !metadata.isEmpty || event.metadata?.isEmpty == false || event.error != nil {
            var merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
            if let error = event.error { merged["error"] = "\(error)" }
            for key in merged.keys.sorted() {
                let value = "\(merged[key]!)"
                message += " \(key)=" + (value.contains(" ") || value.isEmpty ? "\"\(value)\"" : value)
            }
        }
        var prefix = Prefix()
        switch style {
        case .journal: prefix.append(Self.priorityTag(event.level))
        case .plain, .json:
            Self.appendTimestamp(to: &prefix)
            prefix.append(" ")
            prefix.append(Self.name(event.level))
            prefix.append(" ")
        }
        message.withUTF8 { text in
            withUnsafeBytes(of: &prefix.bytes) { prefixBytes in
                let newline: StaticString = "\n"
                var parts = [
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: prefixBytes.baseAddress), iov_len: prefix.count),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: text.baseAddress), iov_len: text.count),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: newline.utf8Start), iov_len: 1),
                ]
                Self.writing.withLock { _ in Self.writeAll(output, &parts) }
            }
        }
    }

    /// One JSON object a line (`log-format = json`): time, level, message,
    /// and each metadata key as a field of its own (an access line's module,
    /// version, kind, cache outcome, client and user among them).
    private func logJSON(_ event: LogEvent) {
        var merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        if let error = event.error { merged["error"] = "\(error)" }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let time = padded(Int(parts.tm_year) + 1900, 4) + "-" + padded(Int(parts.tm_mon) + 1, 2) + "-" + padded(Int(parts.tm_mday), 2)
            + "T" + padded(Int(parts.tm_hour), 2) + ":" + padded(Int(parts.tm_min), 2) + ":" + padded(Int(parts.tm_sec), 2) + "."
            + padded(now.tv_nsec / 1_000_000, 3) + "Z"
        var line = "{\"time\":\"\(time)\",\"level\":\"\(event.level.rawValue)\",\"message\":" + Self.jsonString(event.message.description)
        for key in merged.keys.sorted() where key != "time" && key != "level" && key != "message" {
            line += "," + Self.jsonString(key) + ":" + Self.jsonString("\(merged[key]!)")
        }
        line += "}\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var parts = [iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)]
            Self.writing.withLock { _ in Self.writeAll(output, &parts) }
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// writev until every part is out (a pipe may take a long line in pieces).
    private static func writeAll(_ fd: Int32, _ parts: inout [iovec]) {
        var first = 0
        while first < parts.count {
            let written = parts[first...].withUnsafeBufferPointer { writev(fd, $0.baseAddress, Int32($0.count)) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            var remaining = written
            while first < parts.count && remaining >= parts[first].iov_len {
                remaining -= parts[first].iov_len
                first += 1
            }
            if first < parts.count && remaining > 0 {
                parts[first].iov_base += remaining
                parts[first].iov_len -= remaining
            }
        }
    }

    package static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private static func priorityTag(_ level: Logger.Level) -> StaticString {
        switch level {
        case .trace, .debug: "<7>"
        case .info: "<6>"
        case .notice: "<5>"
        case .warning: "<4>"
        case .error: "<3>"
        case .critical: "<2>"
        }
    }

    private static func name(_ level: Logger.Level) -> StaticString {
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

    /// The date and time to the second (`2026-11-21T17:45:03`), formatted once per second.
    private static let secondPrefix = Mutex<(second: Int, text: [UInt8])>((-1, []))

    private static func appendTimestamp(to prefix: inout Prefix) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = secondPrefix.withLock { cached -> [UInt8] in
            if cached.second == now.tv_sec { return cached.text }
            var parts = tm()
            var seconds = now.tv_sec
            gmtime_r(&seconds, &parts)
            func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
            let text = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
            cached = (now.tv_sec, Array(text.utf8))
            return cached.text
        }
        for byte in second { prefix.append(byte) }
        let millis = now.tv_nsec / 1_000_000
        prefix.append(".")
        prefix.append(UInt8(ascii: "0") + UInt8(millis / 100))
        prefix.append(UInt8(ascii: "0") + UInt8(millis / 10 % 10))
        prefix.append(UInt8(ascii: "0") + UInt8(millis % 10))
        prefix.append("Z")
    }
}

/// The start of a log line, in fixed storage: a timestamp and a level at most.
private struct Prefix {
    package var bytes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    private(set) var count = 0

    package mutating func append(_ byte: UInt8) {
        precondition(count < MemoryLayout.size(ofValue: bytes), "log line prefix too long")
        withUnsafeMutableBytes(of: &bytes) { $0[count] = byte }
        count += 1
    }

    package mutating func append(_ text: StaticString) {
        for index in 0..<text.utf8CodeUnitCount { append(text.utf8Start[index]) }
    }
}
