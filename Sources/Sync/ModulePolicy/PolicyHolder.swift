import Synchronization

/// The policy in force, swapped whole when the file is read again: a
/// request sees either the old rules or the new ones, never a mix.
public final class PolicyHolder: Sendable {
    private let current: Mutex<ModulePolicy>

    public init(_ policy: ModulePolicy = .open) {
        current = Mutex(policy)
    }

    public var policy: ModulePolicy { current.withLock { $0 } }

    public func replace(with policy: ModulePolicy) {
        current.withLock { $0 = policy }
    }
}
