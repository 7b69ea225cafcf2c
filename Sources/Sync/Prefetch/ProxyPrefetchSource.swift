import ChecksumDatabase
import GoModules
import ModuleProxy

/// The agent's own prefetch source: its proxy, as background work that
/// shares in-flight fetches with clients. A zip is checked against go.sum
/// as it arrives, and one that does not match is not stored.
public struct ProxyPrefetchSource: PrefetchSource {
    public let proxy: ModuleProxy

    public init(proxy: ModuleProxy) {
        self.proxy = proxy
    }

    public func fetch(_ resource: ProxyResource, expectedHash: String?, keepBytes: Bool) async -> PrefetchFetch {
        let answer = await proxy.answer(ProxyRequest(resource), priority: .background, verify: expectedHash)
        // goedge's own verdict (a checksum mismatch, a damaged file passed on
        // unstored, an unreachable upstream) says what happened.
        if let failure = answer.failure { return .failed("\(failure)") }
        guard answer.status == 200 else {
            return .refused(resource, status: answer.status, reason: answer.reason, body: answer.bodyBytes ?? [])
        }
        // Checked again whatever its source: a file cached earlier, or fetched
        // for a client, was not checked against this go.sum. (For a zip checked
        // as it arrived, its hash is on record: no second pass over it.)
        if let expectedHash, let mismatch = await proxy.verify(answer, for: resource, expectedHash: expectedHash) {
            return .failed("\(mismatch)")
        }
        return .stored(
            fetchedNow: answer.cacheStatus == .miss, bytes: answer.contentLength ?? 0, body: keepBytes ? answer.bodyBytes : nil)
    }

    public func checksumDatabase(named name: String) -> any ChecksumDatabaseFetching {
        proxy.checksumDatabaseReader(named: name)
    }

    public func versions(of module: ModulePath) async -> [ModuleVersion]? {
        let answer = await proxy.answer(ProxyRequest(.list(module)), priority: .background)
        guard answer.status == 200, let bytes = answer.bodyBytes else { return nil }
        return ModuleVersion.listed(in: bytes)
    }
}
