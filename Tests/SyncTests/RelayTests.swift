import Testing

@testable import Upstream

/// A relayed body: bounded memory, every early reader gets it whole, the
/// transfer waits for the slowest, and a failure reaches every reader.
@Suite struct RelayTests {
    private func offer(_ relay: Relay, _ bytes: [UInt8]) -> SinkVerdict {
        bytes.withUnsafeBytes { relay.receive($0) }
    }

    private func readAll(_ reader: RelayReader) async throws -> [UInt8] {
        var all: [UInt8] = []
        while let chunk = try await reader.next() { all += chunk }
        return all
    }

    @Test func readersGetTheWholeBodyAndTheTransferWaitsForTheSlowest() async throws {
        let relay = Relay(length: 40, capacity: 16)
        let fast = try #require(relay.makeReader())
        let slow = try #require(relay.makeReader())
        let resumed = ResumeCount()
        relay.onResume { resumed.add() }
        #expect(offer(relay, Array(0..<10)) == .accepted)
        // A window's worth is waiting for the slow reader: the transfer pauses.
        #expect(offer(relay, Array(10..<20)) == .pause)
        #expect(try await fast.next() == Array(0..<10))
        #expect(resumed.count == 0)
        #expect(try await slow.next() == Array(0..<10))
        #expect(resumed.count == 1)
        #expect(offer(relay, Array(10..<20)) == .accepted)
        #expect(offer(relay, Array(20..<30)) == .pause)
        // A reader that joins now would miss the first bytes.
        #expect(relay.makeReader() == nil)
        async let fastRest = readAll(fast)
        async let slowRest = readAll(slow)
        while resumed.count < 2 { await Task.yield() }
        #expect(offer(relay, Array(20..<40)) == .accepted)
        relay.finish(.complete)
        #expect(try await fastRest == Array(10..<40))
        #expect(try await slowRest == Array(10..<40))
    }

    /// The window keeps the transfer's pieces as they came: a reader takes
    /// them one at a time (shared, not copied), and a piece is dropped only
    /// once every reader has had it, so a reader that joins while the first
    /// piece is held still gets the body from its first byte.
    @Test func piecesGoOutAsTheyCameAndLeaveOnceEveryReaderHadThem() async throws {
        let relay = Relay(length: 30, capacity: 64)
        let a = try #require(relay.makeReader())
        let b = try #require(relay.makeReader())
        #expect(offer(relay, Array(0..<10)) == .accepted)
        #expect(offer(relay, Array(10..<25)) == .accepted)
        #expect(try await a.next() == Array(0..<10))
        #expect(try await a.next() == Array(10..<25))
        let c = try #require(relay.makeReader())
        #expect(try await b.next() == Array(0..<10))
        #expect(offer(relay, Array(25..<30)) == .accepted)
        relay.finish(.complete)
        #expect(try await readAll(c) == Array(0..<30))
        #expect(try await readAll(b) == Array(10..<30))
        #expect(try await readAll(a) == Array(25..<30))
        #expect(relay.received == 30)
        // Every piece had by every reader: none is held.
        #expect(relay.makeReader() == nil)
    }

    @Test func aFailureMidwayReachesEveryReader() async throws {
        let relay = Relay(length: 100)
        let reader = try #require(relay.makeReader())
        #expect(offer(relay, [1, 2, 3]) == .accepted)
        relay.finish(.failed("connection cut"))
        #expect(try await reader.next() == [1, 2, 3])
        await #expect(throws: RelayFailure.self) { _ = try await reader.next() }
    }

    /// When every client has gone, the transfer is stopped.
    @Test func aRelayNobodyReadsStopsTheTransfer() throws {
        let relay = Relay(length: nil)
        let reader = try #require(relay.makeReader())
        #expect(offer(relay, [1]) == .accepted)
        reader.close()
        #expect(offer(relay, [2]) == .refused)
    }

    /// A reader waiting for bytes whose task is cancelled (its client's time
    /// ran out) stops at once, and the window no longer waits for it.
    @Test(.timeLimit(.minutes(1))) func aWaitingReaderWhoseTaskIsCancelledLeavesAtOnce() async throws {
        let relay = Relay(length: nil, capacity: 4)
        let leaving = try #require(relay.makeReader())
        let staying = try #require(relay.makeReader())
        let waiting = Task { try await leaving.next() }
        // Not yet anything to read: the task waits until it is cancelled.
        for _ in 0..<100 { await Task.yield() }
        waiting.cancel()
        await #expect(throws: RelayFailure.self) { _ = try await waiting.value }
        #expect(offer(relay, [1, 2, 3, 4]) == .accepted)
        #expect(try await staying.next() == [1, 2, 3, 4])
        // The leaver held nothing back: the window is free again.
        #expect(offer(relay, [5, 6, 7, 8]) == .accepted)
    }

    /// A reader closed from elsewhere while it waits ends, as at the body's end.
    @Test(.timeLimit(.minutes(1))) func aWaitingReaderClosedFromElsewhereEnds() async throws {
        let relay = Relay(length: nil)
        let reader = try #require(relay.makeReader())
        let waiting = Task { try await reader.next() }
        for _ in 0..<100 { await Task.yield() }
        reader.close()
        #expect(try await waiting.value == nil)
    }
}

private final class ResumeCount: @unchecked Sendable {
    private let lock = NSLockLike()
    private var value = 0
    var count: Int { lock.withLock { value } }
    func add() { lock.withLock { value += 1 } }
}

import Synchronization

private final class NSLockLike: Sendable {
    private let mutex = Mutex(())
    func withLock<T>(_ body: () -> T) -> T { mutex.withLock { _ in body() } }
}
