/// Why an answer is not the file asked for: one type the prefetcher, the
/// HTTP layer and the metrics switch on, as Go's modfetch decides with
/// `errors.Is` rather than by reading an error's text. The text is made
/// once, here, for the person reading it.
public indirect enum ProxyFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file does not match the go.sum hash it was checked against.
    case checksumMismatch(file: String, expected: String, actual: String)
    /// The upstream sent a complete answer whose content breaks the rules
    /// for its kind (a zip with a file outside its module, a go.mod that
    /// does not parse): passed through, never stored, so that the go
    /// command judges it as it would without goedge.
    case damagedFile(upstream: String, file: String, reason: String)
    /// The transfer did not complete: refused, cut short, stalled, or an
    /// answer shorter than it said. Nothing of it is kept or passed on.
    case unreachable(upstream: String, file: String, reason: String)
    /// The upstream list ends in `direct` or `off`: goedge cannot fetch.
    case noUpstream(file: String, reason: String)
    /// The cache cannot keep a file now (the disk is full, say).
    case cannotStore(file: String, reason: String)

    /// The status goedge answers with when this is all there is.
    public var status: Int {
        switch self {
        case .checksumMismatch, .damagedFile, .unreachable: 502
        case .noUpstream: 404
        case .cannotStore: 503
        }
    }

    public var description: String {
        switch self {
        case .checksumMismatch(let file, let expected, let actual):
            "checksum mismatch for \(file): go.sum has \(expected), downloaded \(actual)"
        case .damagedFile(let upstream, let file, let reason):
            "\(upstream) sent a damaged file for \(file): \(reason)"
        case .unreachable(let upstream, let file, let reason):
            "\(upstream) failed for \(file): \(reason)"
        case .noUpstream(let file, let reason):
            "\(file) not found: \(reason)"
        case .cannotStore(let file, let reason):
            "cannot store \(file) in the cache: \(reason)"
        }
    }
}
