import NIOCore

/// The time bounds of a connection.
package struct ConnectionLimits: Sendable, Equatable {
    /// From connecting (or the first byte of a later request) to a complete
    /// head; also the longest pause inside a request body, the longest a
    /// client may take none of an answer's bytes, and the longest a refused
    /// connection is held for its refusal to be taken.
    package var headTimeout: TimeAmount = .seconds(20)
    /// From a complete head to the answer's first byte.
    package var requestTimeout: TimeAmount = .minutes(10)

    package init() {}
}
