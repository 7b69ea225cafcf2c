import LRUCache

/// A resource with the cache keys it is stored under, worked out once:
/// what the server routes a request to, and what the proxy answers.
public struct ProxyRequest: Hashable, Sendable, CustomStringConvertible {
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

    public var description: String { resource.description }
}
