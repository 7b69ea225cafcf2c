import NIOCore
import NIOHTTP1
import ModuleProxy

/// The request a connection is answering: its head, its number on the
/// connection (from 1), and when it began.
struct InFlightRequest {
    var head: RequestHead
    var number: Int
    var kind: RequestKind
    var started: NIODeadline
    /// What a module request asked for (for the journal's fields).
    var resource: ProxyResource?
    /// Not a HEAD request.
    var sendsBody: Bool

    init(head: RequestHead, number: Int, kind: RequestKind, started: NIODeadline) {
        self.head = head
        self.number = number
        self.kind = kind
        self.started = started
        if case .HEAD = head.method { sendsBody = false } else { sendsBody = true }
    }

    /// Before the first request. Not an optional: replacing an optional of
    /// this went through the runtime's generic witnesses on every request.
    static let none = InFlightRequest(
        head: RequestHead(method: .GET, uri: "", version: .http1_1, keepAlive: false), number: 0, kind: .other,
        started: .uptimeNanoseconds(0))
}
