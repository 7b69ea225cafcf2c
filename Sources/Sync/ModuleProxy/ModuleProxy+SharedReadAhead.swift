import LRUCache
import Upstream

/// Read-ahead from the fleet's shared store alone.
///
/// The go command loads a module graph two go.mod files at a time (its
/// queue is GOMAXPROCS wide), so on a runner whose files are all in the
/// fleet's bucket, a cold download waits one bucket round trip per go.mod
/// in turn. Below a pruned go.mod the go command may or may not ask for a
/// requirement's go.mod, which is why read-ahead does not fetch those from
/// the upstream; from the bucket they cost no WAN request and no upstream
/// load, so they are read ahead from there, many at once, and whatever the
/// bucket lacks is left for the go command to ask for.
extension ModuleProxy {
    /// `request`'s file from the shared store, checked as any file from it
    /// is and kept: nil when there is no shared store, the policy refuses
    /// the file, or the store has not got it. Nothing is asked of the
    /// upstream, unless a client comes to wait for the file meanwhile.
    func answerFromSharedStore(_ request: ProxyRequest) async -> ProxyAnswer? {
        let resource = request.resource
        guard let shared, let key = request.cacheKey, resource.lifetime == .immutable, isSharable(resource),
            refusal(for: resource, by: policy.policy) == nil
        else { return nil }
        if let cached = cachedAnswer(for: request) { return cached }
        let upstream = self.upstream
        let (answer, _) = await flights.answer(
            for: key, priority: .background, recheck: { cachedAnswer(for: request) }, promoted: { upstream.promoted() },
            fetch: { [self] promotion in
                let asked = SourceRequest(path: resource.upstreamPath, priority: .background, promotion: promotion)
                if let found = await fetchShared(resource, key: key, request: asked, from: shared, expectedHash: nil, lookingUpFirst: false) {
                    return found
                }
                // A client waits for this file now: it gets it from the upstream.
                if promotion.isRaised {
                    return await fetch(
                        resource, key: key, priority: .background, promotion: promotion, expectedHash: nil, askingSharedStore: false)
                }
                var absent = ProxyAnswer.text(404, "goedge: not in the shared store", cacheStatus: .passThrough)
                absent.isForLeaderOnly = true
                return absent
            })
        return answer.isForLeaderOnly ? nil : answer
    }
}
