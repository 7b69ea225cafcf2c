#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LRUCache
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import SharedStore

/// `GET /-/healthz` (the process answers) and `GET /-/readyz` (it can do its
/// work: index loaded, cache folder writable, an upstream answering or none
/// needed yet), both JSON; readyz answers 503 while not ready.
struct HealthEndpoints: Sendable {
    let store: DiskCache
    let upstreams: UpstreamHealth
    var shared: (any SharedTier)? = nil

    func healthz() -> AgentReply {
        JSONReply.make(["status": "ok"])
    }

    func readyz() -> AgentReply {
        // Writable, and with disk space: otherwise files are passed on unstored.
        let cacheWritable = access(store.configuration.directory + "/tmp", W_OK) == 0 && !store.isDiskFull
        var report = ReadinessReport(
            ready: false, indexLoaded: store.isIndexLoaded, cacheWritable: cacheWritable, upstreamAnswering: upstreams.isReady)
        report.ready = report.indexLoaded && report.cacheWritable && report.upstreamAnswering
        if let status = shared?.status {
            report.sharedStoreAnswering = status.available
            report.sharedStoreError = status.available ? nil : status.lastError
        }
        return JSONReply.make(report, status: report.ready ? 200 : 503)
    }
}
