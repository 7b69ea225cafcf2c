import ArgumentParser
import Dispatch
import LRUCache
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Sync

/// The running agent: the store, the upstream client, the proxy and the
/// HTTP listeners, shut down in order on SIGTERM or SIGINT.
struct Agent {
    let configuration: AgentConfiguration
    let logger = Logger(label: "goedge")

    func run() async throws {
        let store: DiskCache
        do {
            store = try DiskCache(
                configuration: .init(directory: configuration.cacheDirectory, maxSize: configuration.maxCacheSize.bytes))
        } catch {
            logger.critical("cannot open the cache folder", metadata: ["folder": "\(configuration.cacheDirectory)", "error": "\(error)"])
            throw ExitCode(1)
        }
        // Cached files are served while the index loads; only writes wait for it.
        DispatchQueue.global(qos: .userInitiated).async { [logger, configuration] in
            let report = store.loadIndex()
            logger.notice(
                "cache loaded",
                metadata: [
                    "folder": "\(configuration.cacheDirectory)", "entries": "\(report.files)",
                    "modules": "\(report.groups)", "used": "\(ByteSize.format(report.diskUsage))",
                    "limit": "\(configuration.maxCacheSize)", "removed_leftovers": "\(report.removedLeftovers)",
                    "ms": "\(report.duration.milliseconds)",
                ])
        }

        let engine = CurlEngine(configuration: configuration.client)
        defer { engine.shutdown() }
        let proxy = ModuleProxy(
            store: store, chain: UpstreamChain(list: configuration.upstreams, engine: engine),
            freshness: configuration.freshness, logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server = HTTPServerService(
            listeners: [.address(configuration.listen)], group: group, proxy: proxy,
            shutdownTimeout: configuration.shutdownTimeout, logger: logger)
        // The group traps SIGTERM and SIGINT before it starts the server, so
        // no signal can arrive unhandled once goedge says it listens.
        let services = ServiceGroup(
            configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await services.run()
        } catch {
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        try? await group.shutdownGracefully()
        logger.notice("stopped")
    }
}

/// Opens the listeners, keeps them until a graceful shutdown, then drains them.
struct HTTPServerService: Service {
    let listeners: [HTTPServer.Listener]
    let group: any EventLoopGroup
    let proxy: ModuleProxy
    let shutdownTimeout: Duration
    let logger: Logger

    func run() async throws {
        let server: HTTPServer
        do {
            server = try await HTTPServer.start(
                listeners: listeners, group: group, proxy: proxy, agentEndpoints: { _, _ in nil }, logger: logger)
        } catch {
            logger.critical("cannot listen", metadata: ["listeners": "\(listeners)", "error": "\(error)"])
            throw error
        }
        logger.notice(
            "goedge \(GoEdge.version) listening",
            metadata: ["urls": "\(server.urls.joined(separator: " "))", "upstream": "\(proxy.chain.list)"])
        try? await gracefulShutdown()
        logger.notice("shutting down: no new connections, finishing responses in flight")
        await server.shutdown(timeout: shutdownTimeout)
    }
}
