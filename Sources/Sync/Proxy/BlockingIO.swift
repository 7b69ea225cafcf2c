import Dispatch

/// Runs file work that may block for long (fsync, reading a zip's directory)
/// off Swift's cooperative threads, which are as few as the cores.
public enum BlockingIO {
    private static let queue = DispatchQueue(label: "goedge.blocking-io", attributes: .concurrent)

    public static func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Swift.Result { try work() })
            }
        }
    }
}
