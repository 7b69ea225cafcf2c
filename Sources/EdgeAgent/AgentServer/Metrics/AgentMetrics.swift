import CoreMetrics
import Foundation
import LRUCache
import Prometheus
import Synchronization

/// The agent's metrics in the Prometheus text format.
///
/// What happens (requests, upstream requests, joins, prefetches, read-ahead)
/// is counted where it happens through swift-metrics, which this registry
/// backs; what is (the cache's size, the process's memory) is read when
/// scraped.
final class AgentMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let store: DiskCache
    private let started = time(nil)

    private let cacheSize: Prometheus.Gauge
    private let cacheLimit: Prometheus.Gauge
    private let cacheReserved: Prometheus.Gauge
    private let cacheFiles: Prometheus.Gauge
    private let cacheModules: Prometheus.Gauge
    private let indexLoaded: Prometheus.Gauge
    private let evictions: Prometheus.Counter
    private let evictedBytes: Prometheus.Counter
    private let residentMemory: Prometheus.Gauge
    private let openDescriptors: Prometheus.Gauge
    private let startTime: Prometheus.Gauge
    /// What the eviction counters were last advanced to (the store keeps totals).
    private let exported = Mutex((evictions: 0, evictedBytes: Int64(0)))

    /// Makes the registry swift-metrics reports to. Once per process: call
    /// it before anything that counts is made.
    static func bootstrap(store: DiskCache) -> AgentMetrics {
        let metrics = AgentMetrics(store: store)
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        return metrics
    }

    private init(store: DiskCache) {
        self.store = store
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func gauge(_ name: String, unit: String = "", _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(descriptor: .init(metricName: name, unitName: unit, helpText: help))
        }
        func counter(_ name: String, unit: String, _ help: String) -> Prometheus.Counter {
            registry.makeCounter(descriptor: .init(metricName: name, unitName: unit, helpText: help))
        }
        cacheSize = gauge("goedge_cache_size", unit: "bytes", "Disk used by the cache, everything counted.")
        cacheLimit = gauge("goedge_cache_limit", unit: "bytes", "The most disk the cache may use (max-cache-size).")
        cacheReserved = gauge("goedge_cache_reserved", unit: "bytes", "Disk reserved for downloads in flight.")
        cacheFiles = gauge("goedge_cache_entries", "Files in the cache.")
        cacheModules = gauge("goedge_cache_modules", "Module versions and metadata groups in the cache (the eviction units).")
        indexLoaded = gauge("goedge_cache_index_loaded", "1 once the cache index is loaded.")
        evictions = counter("goedge_cache_evictions", unit: "total", "Module versions evicted to stay within the limit.")
        evictedBytes = counter("goedge_cache_evicted_bytes", unit: "total", "Disk freed by evictions.")
        residentMemory = gauge("process_resident_memory", unit: "bytes", "Resident memory size in bytes.")
        openDescriptors = gauge("process_open_fds", "Number of open file descriptors.")
        startTime = gauge("process_start_time", unit: "seconds", "Start time of the process since unix epoch in seconds.")
    }

    /// The exposition, with the facts read now.
    func scrape() -> [UInt8] {
        let cache = store.statistics()
        cacheSize.set(to: Double(cache.diskUsage))
        cacheLimit.set(to: Double(cache.maxSize))
        cacheReserved.set(to: Double(cache.reserved))
        cacheFiles.set(to: Double(cache.files))
        cacheModules.set(to: Double(cache.groups))
        indexLoaded.set(to: store.isIndexLoaded ? 1 : 0)
        exported.withLock { exported in
            if cache.evictions > exported.evictions {
                evictions.increment(by: Int64(cache.evictions - exported.evictions))
                exported.evictions = cache.evictions
            }
            if cache.evictedBytes > exported.evictedBytes {
                evictedBytes.increment(by: cache.evictedBytes - exported.evictedBytes)
                exported.evictedBytes = cache.evictedBytes
            }
        }
        residentMemory.set(to: Double(ProcessFacts.residentBytes() ?? 0))
        openDescriptors.set(to: Double(ProcessFacts.openDescriptors() ?? 0))
        startTime.set(to: Double(started))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
