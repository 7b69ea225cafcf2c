/// Collects a body in memory, up to a limit.
public final class MemorySink: ResponseBodySink, @unchecked Sendable {
    private let limit: Int64
    public private(set) var bytes: [UInt8] = []
    public private(set) var refusal: String?

    public init(limit: Int64) {
        self.limit = limit
    }

    public func receive(_ buffer: UnsafeRawBufferPointer) -> SinkVerdict {
        guard Int64(bytes.count + buffer.count) <= limit else {
            refusal = "the upstream's answer is larger than goedge accepts (\(limit) bytes)"
            return .refused
        }
        bytes.append(contentsOf: buffer)
        return .accepted
    }
}
