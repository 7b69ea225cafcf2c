import GoModules
import Upstream

/// How long stored answers that can change are served without asking the
/// upstream again.
public struct FreshnessPolicy: Sendable, Equatable {
    /// `list`, `@latest` and query `.info`.
    public var moduleMetadataTTL: Duration
    /// 404 and 410 answers: brief, because `-mod=mod` probes paths in bursts
    /// and a module may appear at any moment.
    public var notFoundTTL: Duration
    /// sumdb `latest` and `supported`.
    public var checksumDatabaseTTL: Duration

    public init(
        moduleMetadataTTL: Duration = .seconds(300), notFoundTTL: Duration = .seconds(60),
        checksumDatabaseTTL: Duration = .seconds(60)
    ) {
        self.moduleMetadataTTL = moduleMetadataTTL
        self.notFoundTTL = notFoundTTL
        self.checksumDatabaseTTL = checksumDatabaseTTL
    }

    public func timeToLive(for lifetime: ProxyResource.Lifetime, status: Int) -> Duration {
        if status == 404 || status == 410 { return notFoundTTL }
        switch lifetime {
        case .immutable: return .seconds(Int64.max / 2)
        case .moduleMetadata: return moduleMetadataTTL
        case .checksumDatabaseState: return checksumDatabaseTTL
        }
    }

    /// Whether an answer stored (or last revalidated) at `storedAt` may still
    /// be served without asking the upstream. Times in nanoseconds since the epoch.
    public func isFresh(lifetime: ProxyResource.Lifetime, status: Int, storedAt: Int64, now: Int64) -> Bool {
        let ttl = timeToLive(for: lifetime, status: status)
        let age = now - storedAt
        // A clock that went backwards makes everything stale, never fresh forever.
        return age >= 0 && Duration.nanoseconds(age) < ttl
    }
}
