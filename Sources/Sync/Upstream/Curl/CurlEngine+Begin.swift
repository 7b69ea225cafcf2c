import LRUCache

/// A transfer that returns to its caller as soon as it is known what came:
/// a 200's body as it begins to arrive (the transfer goes on behind it), or
/// any other answer whole, or the failure.
public enum BegunTransfer: Sendable {
    /// A 200: its body arrives into `relay`; `ended` settles when the transfer ends.
    case body(ResponseHead, Relay, ended: Settlement<TransferResult>)
    /// Any other status, with its body (at most ``SourceAnswer/errorBodyLimit``).
    case answered(ResponseHead, [UInt8], ended: Settlement<TransferResult>)
    case failed(TransportError, ended: Settlement<TransferResult>)

    /// Settles when the transfer ends (at once, for an answer or a failure).
    public var ended: Settlement<TransferResult> {
        switch self {
        case .body(_, _, let ended), .answered(_, _, let ended), .failed(_, let ended): ended
        }
    }
}

extension CurlEngine {
    /// Performs `request` (its own sink choice is replaced): returns once a
    /// 200's body begins, or the transfer ended. A 200's body goes into a
    /// ``Relay`` fed, not ended, by this transfer: the caller finishes it
    /// (``RelayFeed``), so that a cut body can be resumed behind its reader.
    public func begin(_ request: TransferRequest) async -> BegunTransfer {
        enum First: Sendable {
            case body(ResponseHead, Relay)
            case ended(TransferResult)
        }
        let first = Settlement<First>()
        let ended = Settlement<TransferResult>()
        var request = request
        request.chooseSink = { head in
            guard head.status == 200 else { return MemorySink(limit: Int64(SourceAnswer.errorBodyLimit)) }
            let relay = Relay(length: head.contentLength)
            first.settle(.body(head, relay))
            return RelayFeed(relay: relay)
        }
        Task { [request] in
            let result = await perform(request)
            ended.settle(result)
            first.settle(.ended(result))
        }
        switch await first.value {
        case .body(let head, let relay):
            return .body(head, relay, ended: ended)
        case .ended(let result):
            switch result.outcome {
            case .failed(let error): return .failed(error, ended: ended)
            case .response(let head, let sink): return .answered(head, (sink as? MemorySink)?.bytes ?? [], ended: ended)
            }
        }
    }
}
