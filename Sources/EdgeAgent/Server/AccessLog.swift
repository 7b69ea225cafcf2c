import Logging
import NIOCore
import Sync

/// One log line per request at info level: method, path, status, bytes,
/// cache outcome, time taken and time spent upstream. Written as one
/// preformatted message, since it runs for every request.
enum AccessLog {
    static func record(request: RequestHead, answer: ProxyAnswer, bytes: Int64, started: NIODeadline, logger: Logger) {
        guard logger.logLevel <= .info else { return }
        let elapsed = (NIODeadline.now() - started).nanoseconds
        var line = "\(request.method.rawValue) \(request.uri) \(answer.status) bytes=\(bytes)"
        line += " cache=\(answer.cacheStatus.rawValue) ms=\(milliseconds(elapsed))"
        if let upstream = answer.upstreamDuration {
            line += " upstream_ms=\(milliseconds(upstream.components.seconds * 1_000_000_000 + upstream.components.attoseconds / 1_000_000_000))"
        }
        logger.info("\(line)")
    }

    /// Milliseconds with one decimal: `12`, `0.3`.
    private static func milliseconds(_ nanoseconds: Int64) -> String {
        let tenths = (nanoseconds + 50_000) / 100_000
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
    }
}
