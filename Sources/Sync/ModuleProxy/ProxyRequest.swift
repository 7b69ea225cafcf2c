import LRUCache
import GoModules
import Upstream

/// A resource with the cache keys it is stored under, worked out once:
/// what the server routes a request to, and what the proxy answers.
///
/// A class, immutable: the server remembers the routes of paths it has seen
/// and hands the same request out for each of them, and a reference costs
/// one retain to pass on where this value's many strings would cost one each.
public final class ProxyRequest: Hashable, Sendable, CustomStringConvertible {
    public let resource: ProxyResource
    /// Nil when the path is too long to store: such answers are passed through.
    public let cacheKey: CacheKey?
    /// Where a 404/410 for an immutable resource is remembered.
    public let negativeCacheKey: CacheKey?

    public init(_ resource: ProxyResource) {
        self.resource = resource
        self.cacheKey = resource.cacheKey
        self.negativeCacheKey = resource.lifetime == .immutable ? resource.negativeCacheKey : nil
    }

    /// Two requests are equal when they ask for the same resource (the keys follow from it).
    public static func == (lhs: ProxyRequest, rhs: ProxyRequest) -> Bool { lhs.resource == rhs.resource }

    public func hash(into hasher: inout Hasher) { hasher.combine(resource) }

    public var description: String { resource.description }
}
