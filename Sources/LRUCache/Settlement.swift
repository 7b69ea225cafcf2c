import Synchronization

/// "Wait until this is settled": a value that is settled once (the first
/// settlement wins), for any number of tasks to await. A waiter whose task
/// is cancelled leaves at once with what it said to take instead, and the
/// settlement goes on for the others. The one primitive goedge's code waits
/// with, wherever a callback (libcurl's thread, an event loop) hands a
/// result to async code.
public final class Settlement<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Value, Never>] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    /// Settles with `value` unless settled already; returns whether this call settled it.
    @discardableResult
    public func settle(_ value: Value) -> Bool {
        let waiters: [CheckedContinuation<Value, Never>]? = state.withLock { state in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: value) }
        return true
    }

    /// The value if settled, without waiting.
    public var settled: Value? { state.withLock { $0.value } }

    /// The value, once settled.
    public var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { state in
                    if let value = state.value { return value }
                    state.nextWaiter += 1
                    state.waiters[state.nextWaiter] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    /// The value once settled, or `cancelled` at once when the waiting task is cancelled.
    public func value(orWhenCancelled cancelled: @autoclosure () -> Value) async -> Value {
        let id = Mutex<Int?>(nil)
        let fallback = cancelled()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { state in
                    if let value = state.value { return value }
                    if Task.isCancelled { return fallback }
                    state.nextWaiter += 1
                    state.waiters[state.nextWaiter] = continuation
                    id.withLock { $0 = state.nextWaiter }
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in id.withLock { $0 }.flatMap { state.waiters.removeValue(forKey: $0) } }
            waiter?.resume(returning: fallback)
        }
    }
}
