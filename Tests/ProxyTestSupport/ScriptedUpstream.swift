import LRUCache
import ModuleProxy
import Synchronization
import Upstream

/// An upstream in the test's hands: it answers each path as scripted, counts
/// what it was asked (and with which headers), and can hold its answers
/// until the test lets them go, so that single flight and read-ahead are
/// driven in-process, deterministically. The real network path (libcurl, the
/// Go fixture) is tested by the integration tests; this stands in for it
/// only where they cannot be deterministic.
public final class ScriptedUpstream: FileSource {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        /// HTTP major version: 2 signals the body's end by itself.
        public var majorVersion: Int
        /// When set, the transfer fails after the head with this instead of ending.
        public var failure: TransportError?

        public init(
            status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8], majorVersion: Int = 2,
            failure: TransportError? = nil
        ) {
            self.status = status
            self.headers = headers
            self.body = body
            self.majorVersion = majorVersion
            self.failure = failure
        }

        public static func text(_ status: Int, _ text: String) -> Response {
            Response(status: status, headers: [("content-type", "text/plain; charset=utf-8")], body: Array(text.utf8))
        }
    }

    public struct Request: Sendable {
        public var path: String
        public var headers: [(name: String, value: String)]
        public var priority: TransferRequest.Priority
    }

    private struct State {
        var responses: [String: Response] = [:]
        var requests: [Request] = []
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var arrivals: [CheckedContinuation<Void, Never>] = []
        var unreachable: String?
        var promotions = 0
    }
    private let state = Mutex(State())
    public let url = try! UpstreamURL(parsing: "https://upstream.test")

    public init() {}

    /// Answers `path` (as the proxy asks for it, escaped, no leading slash) with `response`.
    public func script(_ path: String, _ response: Response) {
        state.withLock { $0.responses[path] = response }
    }

    /// Every request from now on fails to connect (nil: answers again).
    public func failEverything(_ reason: String?) {
        state.withLock { $0.unreachable = reason }
    }

    /// Answers wait until ``release()``.
    public func hold() {
        state.withLock { $0.held = true }
    }

    public func release() {
        let waiting = state.withLock { state in
            state.held = false
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    public var requests: [Request] { state.withLock { $0.requests } }

    public func requestCount(_ path: String) -> Int { state.withLock { $0.requests.filter { $0.path == path }.count } }

    public var promotions: Int { state.withLock { $0.promotions } }

    /// Returns once `count` requests have arrived in all.
    public func waitForRequests(_ count: Int) async {
        while requests.count < count {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state in
                    if state.requests.count >= count { return true }
                    state.arrivals.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        }
    }

    public func fetch(_ request: SourceRequest) async -> SourceAnswer {
        let path = request.path
        let arrivals = state.withLock { state in
            state.requests.append(Request(path: path, headers: request.conditions, priority: request.priority))
            defer { state.arrivals.removeAll() }
            return state.arrivals
        }
        for arrival in arrivals { arrival.resume() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let go = state.withLock { state in
                if state.held { state.waiting.append(continuation) }
                return !state.held
            }
            if go { continuation.resume() }
        }
        let (scripted, unreachable) = state.withLock { ($0.responses[path], $0.unreachable) }
        if let unreachable {
            return SourceAnswer(outcome: .failed(TransportError(kind: .connect, message: unreachable)), from: url.redacted)
        }
        let response = scripted ?? .text(404, "not found: \(path)")
        let head = ResponseHead(
            status: response.status, reason: ResponseHead.standardReason(for: response.status), headers: response.headers,
            majorVersion: response.majorVersion)
        guard response.status == 200 else {
            if let failure = response.failure { return SourceAnswer(outcome: .failed(failure), from: url.redacted) }
            return SourceAnswer(outcome: .answered(head, response.body), from: url.redacted, duration: .milliseconds(1))
        }
        // The body as a transfer would bring it: in pieces, waiting while its reader lags a window behind.
        let relay = Relay(length: head.contentLength)
        let body = SourceBody(relay: relay)
        Task {
            let resumed = Resumption()
            relay.onResume { resumed.signal() }
            var offset = 0
            while offset < response.body.count {
                let end = min(response.body.count, offset + 4096)
                switch response.body[offset..<end].withUnsafeBytes({ relay.receive($0) }) {
                case .accepted: offset = end
                case .pause: await resumed.wait()
                case .refused:
                    relay.finish(.failed("nobody reads"))
                    return
                }
            }
            relay.finish(response.failure.map { .failed($0.message) } ?? .complete)
        }
        return SourceAnswer(outcome: .found(head, body), from: url.redacted, duration: .milliseconds(1))
    }

    public func promoted() {
        state.withLock { $0.promotions += 1 }
    }
}

/// A clock that stands still until the test moves it.
public final class ManualClock: WallClock {
    private let current: Atomic<Int64>

    public init(startingAt nanoseconds: Int64 = FileSystem.now()) {
        current = Atomic(nanoseconds)
    }

    public func now() -> Int64 { current.load(ordering: .relaxed) }

    public func advance(by duration: Duration) {
        current.add(duration.nanosecondCount, ordering: .relaxed)
    }
}

/// One waiter for a signal that may come before it waits.
private final class Resumption: Sendable {
    private let state = Mutex<(signalled: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLock { state in
            defer { state = (state.waiter == nil, nil) }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let go = state.withLock { state in
                if state.signalled {
                    state.signalled = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if go { continuation.resume() }
        }
    }
}
