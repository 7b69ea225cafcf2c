import Synchronization

/// The policy in force, swapped whole when the file is read again: a
/// request sees either the old rules or the new ones, never a mix.
public final class PolicyHolder: Sendable {
    private let current: Mutex<ModulePolicy>
    /// `policy.isOpen`, readable without copying the policy out: a cache hit
    /// under no policy (the common case) costs one load here.
    private let open: Atomic<Bool>

    public init(_ policy: ModulePolicy = .open) {
        current = Mutex(policy)
        open = Atomic(policy.isOpen)
    }

    public var policy: ModulePolicy { current.withLock { $0 } }

    /// Whether no rule applies to anything (no policy file, or an empty one).
    public var isOpen: Bool { open.load(ordering: .acquiring) }

    public func replace(with policy: ModulePolicy) {
        current.withLock { current in
            current = policy
            open.store(policy.isOpen, ordering: .releasing)
        }
    }
}
