import ModulePolicy

/// Cached module versions the policy in force denies: they stay on disk
/// (goedge does not delete them) but are not served, and `goedge cache ls`
/// says so.
public enum PolicyMarks {
    public static func mark(_ entries: [CacheEntry], by policy: ModulePolicy) -> [CacheEntry] {
        guard !policy.isOpen else { return entries }
        return entries.map { entry in
            guard let module = entry.module, let version = entry.version,
                let denial = policy.decide(module: module, version: version).denial
            else { return entry }
            var marked = entry
            marked.denied = denial.reason
            return marked
        }
    }
}
