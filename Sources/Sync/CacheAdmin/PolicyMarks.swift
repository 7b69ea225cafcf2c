import ModulePolicy

/// Cached module versions the policy in force does not serve: denied by a
/// rule or the vulnerability database, or held back by the release-age
/// cooldown. They stay on disk (goedge does not delete them) and
/// `goedge cache ls` says why they are not served.
public enum PolicyMarks {
    /// `releaseDate` tells when a cached version was published, where the
    /// agent has dated it already (``ModuleProxy/ReleaseDating``); `now` is
    /// nanoseconds since the epoch.
    public static func mark(
        _ entries: [CacheEntry], by policy: ModulePolicy, releaseDate: (CacheEntry) -> ReleaseDate? = { _ in nil },
        now: Int64 = 0
    ) -> [CacheEntry] {
        guard !policy.isOpen else { return entries }
        return entries.map { entry in
            guard let module = entry.module, let version = entry.version else { return entry }
            var denial = policy.decide(module: module, version: version).denial
            // Marked only when the date is settled: the agent dates the others when they are asked for.
            if denial == nil, policy.needsReleaseTime(module: module), let date = releaseDate(entry) {
                denial = policy.cooldown(module: module, version: version, date: date, now: now)
            }
            guard let denial else { return entry }
            var marked = entry
            marked.denied = denial.reason
            return marked
        }
    }
}
