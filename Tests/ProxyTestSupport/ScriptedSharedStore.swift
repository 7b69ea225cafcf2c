import Foundation
import LRUCache
import SharedStore
import Synchronization
import Upstream

/// A shared store in the test's hands, for what a real one cannot do on
/// demand: a body cut midway, a `503 SlowDown`, no answer at all. It answers
/// each path as scripted (404 when not), and records what it was offered.
public final class ScriptedSharedStore: SharedTier {
    public enum Answer: Sendable {
        /// The object, whole, or cut after `cutAfter` bytes.
        case object([UInt8], cutAfter: Int? = nil)
        case status(Int, body: String)
        case unreachable
    }

    private struct State {
        var answers: [String: Answer] = [:]
        var offered: [String: [UInt8]] = [:]
        var asked: [String] = []
        var rejected: [String: String] = [:]
        var small: [String: (bytes: [UInt8], lastModified: String)] = [:]
        var held: [String: Settlement<Void>] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    public func script(_ path: String, _ answer: Answer) {
        state.withLock { $0.answers[path] = answer }
    }

    /// Answers for `path` wait until the returned settlement is settled.
    public func hold(_ path: String) -> Settlement<Void> {
        let gate = Settlement<Void>()
        state.withLock { $0.held[path] = gate }
        return gate
    }

    public var offered: [String: [UInt8]] { state.withLock { $0.offered } }
    public var asked: [String] { state.withLock { $0.asked } }
    public var rejectedPaths: [String: String] { state.withLock { $0.rejected } }

    public func fetch(_ request: SourceRequest) async -> SourceAnswer {
        let gate = state.withLock { state in
            state.asked.append(request.path)
            return state.held[request.path]
        }
        await gate?.value
        let answer = state.withLock { $0.answers[request.path] }
        switch answer {
        case nil:
            return SourceAnswer(outcome: .answered(ResponseHead(status: 404, reason: "Not Found", majorVersion: 2), []), from: "the shared store")
        case .unreachable:
            return SourceAnswer(outcome: .failed(TransportError(kind: .connect, message: "connection refused")), from: "the shared store")
        case .status(let status, let body):
            return SourceAnswer(
                outcome: .answered(ResponseHead(status: status, reason: "", majorVersion: 2), Array(body.utf8)), from: "the shared store")
        case .object(let bytes, let cutAfter):
            let head = ResponseHead(status: 200, reason: "OK", headers: [("content-length", "\(bytes.count)")], majorVersion: 2)
            let relay = Relay(length: Int64(bytes.count))
            let body = SourceBody(relay: relay)
            let sent = Array(bytes.prefix(cutAfter ?? bytes.count))
            _ = sent.withUnsafeBytes { relay.receive($0) }
            relay.finish(cutAfter == nil ? .complete : .failed("the connection was reset"))
            return SourceAnswer(outcome: .found(head, body), from: "the shared store")
        }
    }

    public func offer(path: String, file: CacheHit) {
        let bytes = (try? file.readAll()) ?? []
        state.withLock { $0.offered[path] = bytes }
    }

    public func rejected(path: String, reason: String) {
        state.withLock { $0.rejected[path] = reason }
    }

    public var status: SharedStoreStatus { SharedStoreStatus(store: "scripted", mode: "read-write", available: true) }

    /// When small objects written now are said to have been modified (nanoseconds; the test's clock).
    public let now = Mutex<@Sendable () -> Int64>({ 0 })

    public func list(prefix: String, startAfter: String?) async -> BucketListing? {
        let objects = state.withLock { $0.small.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key } }
        var xml = "<ListBucketResult>"
        for (key, object) in objects { xml += "<Contents><Key>\(key)</Key><LastModified>\(object.lastModified)</LastModified></Contents>" }
        return BucketListing(parsing: Array((xml + "</ListBucketResult>").utf8))
    }

    public func read(key: String, limit: Int) async -> (bytes: [UInt8], lastModified: String?)? {
        state.withLock { $0.small[key] }.map { ($0.bytes, $0.lastModified) }
    }

    public func write(key: String, bytes: [UInt8]) async -> Bool {
        let seconds = Double(now.withLock { $0 }()) / 1e9
        let formatter = ISO8601DateFormatter()
        let modified = formatter.string(from: Date(timeIntervalSince1970: seconds))
        state.withLock { state in
            if state.small[key] == nil { state.small[key] = (bytes, modified) }
        }
        return true
    }

    /// Small objects written so far, by key.
    public var smallObjects: [String] { state.withLock { Array($0.small.keys) } }
}
