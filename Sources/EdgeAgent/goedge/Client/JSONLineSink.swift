import Synchronization
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// Takes a streamed body of JSON lines and hands each complete line over as
/// it arrives (on libcurl's thread).
final class JSONLineSink: ResponseBodySink {
    private let onLine: @Sendable ([UInt8]) -> Void
    private let partial = Mutex<[UInt8]>([])
    /// A line longer than this is not one of the agent's events.
    static let maximumLine = 1 << 20

    init(onLine: @escaping @Sendable ([UInt8]) -> Void) {
        self.onLine = onLine
    }

    var refusal: String? { nil }

    func receive(_ bytes: UnsafeRawBufferPointer) -> SinkVerdict {
        let lines: [[UInt8]]? = partial.withLock { partial in
            var lines: [[UInt8]] = []
            for byte in bytes {
                if byte == 0x0A {
                    lines.append(partial)
                    partial.removeAll(keepingCapacity: true)
                } else {
                    partial.append(byte)
                    if partial.count > Self.maximumLine { return nil }
                }
            }
            return lines
        }
        guard let lines else { return .refused }
        for line in lines where !line.isEmpty { onLine(line) }
        return .accepted
    }
}

/// Keeps the first bytes of an error answer, to show them.
final class ErrorBodySink: ResponseBodySink {
    private let kept = Mutex<[UInt8]>([])
    private let limit: Int

    init(limit: Int = 64 << 10) {
        self.limit = limit
    }

    var refusal: String? { nil }
    var bytes: [UInt8] { kept.withLock { $0 } }

    func receive(_ bytes: UnsafeRawBufferPointer) -> SinkVerdict {
        kept.withLock { kept in
            if kept.count < limit { kept.append(contentsOf: bytes.prefix(limit - kept.count)) }
        }
        return .accepted
    }
}
