import LRUCache
import GoModules
import Upstream

/// Collects a body in memory, up to a limit.
final class MemorySink: ResponseBodySink, @unchecked Sendable {
    private let limit: Int64
    private(set) var bytes: [UInt8] = []
    private(set) var refusal: String?

    init(limit: Int64) {
        self.limit = limit
    }

    func receive(_ buffer: UnsafeRawBufferPointer) -> SinkVerdict {
        guard Int64(bytes.count + buffer.count) <= limit else {
            refusal = "the upstream's answer is larger than goedge accepts (\(limit) bytes)"
            return .refused
        }
        bytes.append(contentsOf: buffer)
        return .accepted
    }
}

/// Streams a body into a store writer: straight to a temporary file in the
/// cache folder, never whole in memory.
final class StoreSink: ResponseBodySink, @unchecked Sendable {
    let writer: CacheWriter
    private let limit: Int64
    private(set) var refusal: String?
    /// The store could not take the bytes (a full disk): goedge's failure, not the upstream's.
    private(set) var writeFailure: (any Error)?

    init(writer: CacheWriter, limit: Int64) {
        self.writer = writer
        self.limit = limit
    }

    func receive(_ buffer: UnsafeRawBufferPointer) -> SinkVerdict {
        guard writer.bytesWritten + Int64(buffer.count) <= limit else {
            refusal = "the upstream's answer is larger than goedge accepts (\(limit) bytes)"
            return .refused
        }
        do {
            try writer.write(buffer)
            return .accepted
        } catch {
            writeFailure = error
            refusal = "cannot write to the cache: \(error)"
            return .refused
        }
    }
}
