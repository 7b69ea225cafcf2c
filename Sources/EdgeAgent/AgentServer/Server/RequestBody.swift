import NIOCore

/// The body of a request, as its endpoint receives it: chunks as they come
/// off the connection, with backpressure (while the endpoint has enough
/// waiting, the connection reads nothing more). Only endpoints that take a
/// body get one, and only after the head was checked: who asks, what for,
/// and how long a body that endpoint accepts.
struct RequestBody: Sendable {
    typealias Chunks = NIOAsyncSequenceProducer<
        ByteBuffer, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDemand
    >

    /// Bytes the head announced.
    let length: Int
    private let chunks: Chunks?

    /// No body.
    static let empty = RequestBody(length: 0, chunks: nil)

    init(length: Int, chunks: Chunks?) {
        self.length = length
        self.chunks = chunks
    }

    /// The whole body in one buffer (the route admitted its length).
    func collect() async -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        guard let chunks else { return bytes }
        for await var chunk in chunks {
            bytes += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
        return bytes
    }

    /// Each chunk as it arrives; returns the bytes seen.
    @discardableResult
    func forEach(_ body: (ByteBuffer) async throws -> Void) async throws -> Int {
        guard let chunks else { return 0 }
        var seen = 0
        for await chunk in chunks {
            seen += chunk.readableBytes
            try await body(chunk)
        }
        return seen
    }
}

/// Tells the connection when its body's consumer wants more, or is gone.
struct BodyDemand: NIOAsyncSequenceProducerDelegate {
    let changed: @Sendable (_ wantsMore: Bool, _ consumerGone: Bool) -> Void

    func produceMore() { changed(true, false) }
    func didTerminate() { changed(true, true) }
}
