import LRUCache
import Synchronization

/// A body passed from an upstream to clients as it arrives, through a
/// bounded window of memory, without touching the disk: for what goedge
/// cannot store (no room, a full disk, a path too long to name a file).
///
/// Every client that joined before the window moved on reads the whole
/// body at its own pace; the transfer is paused while the slowest one lags
/// a window behind, and resumed when it catches up. So memory stays
/// bounded (one window per relay, whatever the body's size), and identical
/// requests arriving together share one transfer.
public final class Relay: ResponseBodySink, Sendable {
    public enum Ending: Sendable, Equatable {
        case complete
        case failed(String)
    }

    private struct State {
        /// The window: bytes from `start` on, in the pieces the transfer
        /// gave them (each kept as it came: a reader takes a piece without
        /// a copy, and what every reader had is dropped a piece at a time,
        /// with nothing moved).
        var pieces: [[UInt8]] = []
        /// Bytes in `pieces`.
        var buffered = 0
        var start: Int64 = 0
        /// Each reader's offset into the body.
        var readers: [Int: Int64] = [:]
        var nextReader = 0
        /// Settled when the window grows or the body ends, for readers
        /// waiting beyond its end; a new one for each change.
        var moved = Settlement<Void>()
        var ending: Ending?
        var paused = false
        var everTrimmed = false

        /// The settlement readers wait on now, replaced by a fresh one for the next change.
        mutating func takeMoved() -> Settlement<Void> {
            defer { moved = Settlement() }
            return moved
        }
    }
    private let state = Mutex(State())
    private let capacity: Int
    /// Asks the transfer to call ``receive(_:)`` again (set by the transport).
    private let resumer = Mutex<(@Sendable () -> Void)?>(nil)
    /// Bytes the whole body has, when the upstream said.
    public let length: Int64?

    /// Relays alive now: a test's way to see that none is kept once its readers are done.
    package static let alive = Atomic<Int>(0)

    public init(length: Int64?, capacity: Int = 1 << 20) {
        Self.alive.add(1, ordering: .relaxed)
        self.length = length
        self.capacity = capacity
    }

    deinit { Self.alive.subtract(1, ordering: .relaxed) }

    public var refusal: String? { nil }

    /// How the transport resumes a paused transfer.
    public func onResume(_ resume: @escaping @Sendable () -> Void) {
        resumer.withLock { $0 = resume }
    }

    public func transferEnded(failure: String?) {
        finish(failure.map { .failed($0) } ?? .complete)
    }

    /// Bytes of the body taken so far.
    public var received: Int64 { state.withLock { $0.start + Int64($0.buffered) } }

    // MARK: The transfer's side

    public func receive(_ bytes: UnsafeRawBufferPointer) -> SinkVerdict {
        enum Outcome { case nobodyReads, full, taken(Settlement<Void>) }
        let outcome: Outcome = state.withLock { state in
            // Every reader went away: the rest of the body is nobody's.
            if state.readers.isEmpty && state.nextReader > 0 { return .nobodyReads }
            // The slowest reader is a window behind: wait for it (libcurl offers these bytes again).
            if state.buffered > 0 && state.buffered + bytes.count > capacity {
                state.paused = true
                return .full
            }
            state.pieces.append(Array(bytes))
            state.buffered += bytes.count
            return .taken(state.takeMoved())
        }
        switch outcome {
        case .nobodyReads: return .refused
        case .full: return .pause
        case .taken(let moved):
            moved.settle(())
            return .accepted
        }
    }

    /// The transfer ended: readers get what is left, then the ending.
    public func finish(_ ending: Ending) {
        let moved = state.withLock { state in
            if state.ending == nil { state.ending = ending }
            return state.takeMoved()
        }
        moved.settle(())
    }

    // MARK: The readers' side

    /// A reader from the first byte, or nil when the window has moved on
    /// (its first bytes are gone: that request must fetch on its own).
    public func makeReader() -> RelayReader? {
        state.withLock { state in
            guard !state.everTrimmed else { return nil }
            state.nextReader += 1
            state.readers[state.nextReader] = 0
            return RelayReader(relay: self, id: state.nextReader)
        }
    }

    /// The next bytes for reader `id`; nil at the end. Throws when the
    /// transfer failed, so the client's connection can be cut rather than
    /// end as if the body were whole.
    func next(for id: Int) async throws(RelayFailure) -> [UInt8]? {
        while true {
            enum Step { case bytes([UInt8]), end, failed(String), wait(Settlement<Void>) }
            let step: Step = state.withLock { state in
                guard let offset = state.readers[id] else { return .end }
                if offset < state.start + Int64(state.buffered) {
                    // The rest of the piece the reader is in: all of it, shared, when it starts there.
                    var pieceStart = state.start
                    for piece in state.pieces {
                        let pieceEnd = pieceStart + Int64(piece.count)
                        if offset < pieceEnd {
                            let chunk = offset == pieceStart ? piece : Array(piece[Int(offset - pieceStart)...])
                            state.readers[id] = pieceEnd
                            return .bytes(chunk)
                        }
                        pieceStart = pieceEnd
                    }
                }
                switch state.ending {
                case .complete: return .end
                case .failed(let reason): return .failed(reason)
                case nil: return .wait(state.moved)
                }
            }
            switch step {
            case .bytes(let chunk):
                trim()
                return chunk
            case .end:
                leave(id)
                return nil
            case .failed(let reason):
                leave(id)
                throw RelayFailure(reason: reason)
            case .wait(let moved):
                // A reader whose client left is woken by the cancellation, and leaves.
                await moved.value(orWhenCancelled: ())
                if Task.isCancelled {
                    leave(id)
                    throw RelayFailure(reason: "the client went away")
                }
            }
        }
    }

    /// A reader that goes away (its client left) no longer holds the window back.
    func leave(_ id: Int) {
        let moved = state.withLock { state in
            state.readers.removeValue(forKey: id)
            return state.takeMoved()
        }
        // Its own wait, if it is waiting, ends: the next step finds it gone.
        moved.settle(())
        trim()
    }

    /// Drops what every reader has had, and resumes a paused transfer once half the window is free.
    private func trim() {
        let resume: Bool = state.withLock { state in
            let slowest = state.readers.values.min() ?? (state.start + Int64(state.buffered))
            var done = 0
            while done < state.pieces.count, state.start + Int64(state.pieces[done].count) <= slowest {
                state.start += Int64(state.pieces[done].count)
                state.buffered -= state.pieces[done].count
                done += 1
            }
            if done > 0 {
                state.pieces.removeFirst(done)
                state.everTrimmed = true
            }
            // Half the window free before going on: no pause and resume for every chunk.
            guard state.paused, state.buffered <= capacity / 2 else { return false }
            state.paused = false
            return true
        }
        if resume { resumer.withLock { $0 }?() }
    }
}

/// One client's way through a ``Relay``.
public final class RelayReader: Sendable {
    private let relay: Relay
    private let id: Int

    init(relay: Relay, id: Int) {
        self.relay = relay
        self.id = id
    }

    public var length: Int64? { relay.length }

    /// Another reader from the first byte, for a request that joined this
    /// one's fetch; nil when the first bytes are gone.
    public func another() -> RelayReader? {
        relay.makeReader()
    }

    /// The next bytes; nil at the end; throws if the transfer failed midway.
    public func next() async throws(RelayFailure) -> [UInt8]? {
        try await relay.next(for: id)
    }

    /// The client went away.
    public func close() {
        relay.leave(id)
    }

    deinit { relay.leave(id) }
}

/// A relayed body whose transfer failed midway.
public struct RelayFailure: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
