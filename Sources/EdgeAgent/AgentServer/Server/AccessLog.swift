import Logging
import Synchronization
import NIOCore
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin

/// One log line per request at info level: method, path, status, bytes,
/// cache outcome, time taken, time spent upstream and the client (who
/// fetched what, for an audit). Written as one
/// preformatted message, since it runs for every request: bytes appended
/// piece by piece, as interpolating numbers into a String costs several times more.
enum AccessLog {
    static func record(
        request: RequestHead, answer: AgentReply, bytes: Int64, started: NIODeadline, client: String, user: String? = nil,
        kind: RequestKind = .other, resource: ProxyResource? = nil, logger: Logger
    ) {
        guard logger.logLevel <= .info else { return }
        let elapsed = (NIODeadline.now() - started).nanoseconds
        var line: [UInt8] = []
        line.reserveCapacity(request.uri.utf8.count + 96)
        line += request.method.rawValue.utf8
        line.append(UInt8(ascii: " "))
        line += request.uri.utf8
        line.append(UInt8(ascii: " "))
        line += String(answer.status).utf8
        line += " bytes=".utf8
        line += String(bytes).utf8
        line += " cache=".utf8
        line += answer.outcome.rawValue.utf8
        line += " ms=".utf8
        appendMilliseconds(elapsed, to: &line)
        if let upstream = answer.upstreamDuration {
            line += " upstream_ms=".utf8
            appendMilliseconds(upstream.components.seconds * 1_000_000_000 + upstream.components.attoseconds / 1_000_000_000, to: &line)
        }
        line += " client=".utf8
        line += client.utf8
        if let user {
            line += " user=".utf8
            line += user.utf8
        }
        let message = String(decoding: line, as: UTF8.self)
        let structured = JournalRecord.isEnabled || StructuredAccessLog.isEnabled
        guard structured else {
            logger.info(Logger.Message(stringLiteral: message))
            return
        }
        var fields: [(name: String, value: String)] = [
            ("GOEDGE_KIND", kind.rawValue), ("GOEDGE_CACHE", answer.outcome.rawValue), ("GOEDGE_STATUS", String(answer.status)),
            ("GOEDGE_CLIENT", client),
        ]
        if let user { fields.append(("GOEDGE_USER", user)) }
        if let (module, version) = resource?.moduleVersion {
            fields += [("GOEDGE_MODULE", module.path), ("GOEDGE_VERSION", version.text)]
        } else if case .list(let module)? = resource {
            fields.append(("GOEDGE_MODULE", module.path))
        } else if case .latest(let module)? = resource {
            fields.append(("GOEDGE_MODULE", module.path))
        }
        if answer.outcome == .denied { fields.append(("GOEDGE_POLICY", "denied")) }
        if JournalRecord.isEnabled, JournalRecord.send(message: message, priority: 6, fields: fields) { return }
        // The same fields, named in lower case without the prefix (`module`, `client`), for log-format = json.
        var metadata: Logger.Metadata = [:]
        for field in fields { metadata[String(field.name.dropFirst("GOEDGE_".count)).lowercased()] = .string(field.value) }
        logger.info(Logger.Message(stringLiteral: message), metadata: metadata)
    }

    /// Milliseconds with one decimal: `12`, `0.3`.
    static func appendMilliseconds(_ nanoseconds: Int64, to line: inout [UInt8]) {
        let tenths = (nanoseconds + 50_000) / 100_000
        line += String(tenths / 10).utf8
        if tenths % 10 != 0 {
            line.append(UInt8(ascii: "."))
            line.append(UInt8(ascii: "0") + UInt8(tenths % 10))
        }
    }
}

/// Whether access lines carry their fields as metadata (`log-format = json`).
package enum StructuredAccessLog {
    private static let enabled = Atomic<Bool>(false)
    package static func enable() { enabled.store(true, ordering: .relaxed) }
    static var isEnabled: Bool { enabled.load(ordering: .relaxed) }
}
