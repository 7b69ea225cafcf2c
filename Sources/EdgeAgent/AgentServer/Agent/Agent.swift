import LRUCache
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import GoModules
import Upstream
import ModuleProxy
import ModulePolicy
import Prefetch
import CacheAdmin
import ChecksumDatabase
import SharedStore

/// The running agent: the store, the upstream client, the proxy and the
/// HTTP listeners, shut down in order on SIGTERM, SIGINT or idle exit.
package struct Agent {
    package let configuration: AgentConfiguration
    let logger = Logger(label: "goedge")

    package init(configuration: AgentConfiguration) {
        self.configuration = configuration
    }

    package func run() async throws {
        // First, before anything could start a child: read and unset LISTEN_FDS.
        let inherited: [SocketActivation.InheritedSocket]?
        do {
            inherited = try SocketActivation.inheritedSockets()
        } catch {
            logger.critical("\(error)")
            throw AgentExit.failed
        }
        OpenFileLimit.raiseToHardLimit(logger: logger)
        let notifier = ServiceNotifier()
        let store: DiskCache
        do {
            store = try DiskCache(
                // A `goedge cache` command may be working on the folder: let it finish.
                configuration: .init(
                    directory: configuration.cacheDirectory, maxSize: configuration.maxCacheSize.bytes, lockWait: .seconds(60)))
        } catch let refusal as CacheFolderError {
            // A configuration mistake (--cache-dir ~, say): nothing was touched, and restarting will not help.
            logger.critical("refusing the cache folder", metadata: ["problem": "\(refusal)"])
            throw AgentExit.configuration
        } catch {
            logger.critical("cannot open the cache folder", metadata: ["folder": "\(configuration.cacheDirectory)", "error": "\(error)"])
            throw AgentExit.failed
        }
        let controlToken: String
        do {
            controlToken = try ControlToken.create(in: configuration.cacheDirectory)
        } catch {
            logger.critical("cannot write the control token", metadata: ["folder": "\(configuration.cacheDirectory)", "error": "\(error)"])
            throw AgentExit.failed
        }
        // Before anything that counts is made.
        let metrics = AgentMetrics.bootstrap(store: store)
        RefusalMetrics.register()
        let statistics = ServerStatistics()
        let started = ContinuousClock.now
        let readiness = Readiness {
            notifier.ready(status: AgentStatus.describe(store: store, statistics: statistics))
        }
        let engine = CurlEngine(configuration: configuration.client)
        defer { engine.shutdown() }
        let chain = UpstreamChain(list: configuration.upstreams, engine: engine)
        chain.health.onTransition { [logger] upstream, failing, error in
            if failing {
                logger.warning("upstream failing: clients get 502 or stale answers", metadata: ["upstream": "\(upstream)", "error": "\(error ?? "")"])
            } else {
                logger.notice("upstream answering again", metadata: ["upstream": "\(upstream)"])
            }
        }
        chain.health.onRetry { [logger] upstream, reason in
            logger.notice("retrying a transient upstream failure", metadata: ["upstream": "\(upstream)", "reason": "\(reason)"])
        }
        let policy = PolicyHolder(configuration.policy?.initial ?? .open)
        if let source = configuration.policy {
            logger.notice(
                "module policy", metadata: ["file": "\(source.path)", "deny": "\(policy.policy.deny.count)", "allow": "\(policy.policy.allow.count)"])
        }
        let policyReloader = PolicyReloader(source: configuration.policy, holder: policy, logger: logger)
        policyReloader.start()
        defer { policyReloader.stop() }
        let shared = configuration.sharedStore.map { SharedStore(settings: $0, engine: engine) }
        if let shared {
            logger.notice("shared store", metadata: ["store": "\(shared.settings.description)", "mode": "\(shared.settings.mode.rawValue)"])
            shared.onTransition { [logger] failing, reason in
                if failing {
                    logger.warning(
                        "shared store failing: not asked for a while, builds fetch from the upstream",
                        metadata: ["store": "\(shared.settings.description)", "error": "\(reason ?? "")"])
                } else {
                    logger.notice("shared store answering again", metadata: ["store": "\(shared.settings.description)"])
                }
            }
        }
        let proxy = ModuleProxy(
            store: store, upstream: chain, freshness: configuration.freshness,
            readAhead: ReadAhead(enabled: configuration.readAhead), policy: policy,
            releaseDating: Self.releaseDating(configuration, engine: engine), shared: shared, logger: logger)
        let prefetcher = Prefetcher(proxy: proxy, concurrency: configuration.prefetchConcurrency)
        // Cached files are served while the index loads; only commits wait for it.
        proxy.background.submit { [logger, configuration] in
            let report = await store.loadIndexConcurrently()
            logger.notice(
                "cache loaded",
                metadata: [
                    "folder": "\(configuration.cacheDirectory)", "entries": "\(report.files)",
                    "modules": "\(report.groups)", "used": "\(ByteSize.format(report.diskUsage))",
                    "limit": "\(configuration.maxCacheSize)", "removed_leftovers": "\(report.removedLeftovers)",
                    "foreign_entries": "\(report.foreignEntries)", "ms": "\(report.duration.milliseconds)",
                ])
            if report.foreignEntries > 0 {
                logger.warning(
                    "the cache folder holds entries goedge did not make: left alone, counted against the limit",
                    metadata: ["count": "\(report.foreignEntries)"])
            }
            readiness.indexLoaded()
            // The cooldown dates versions by the checksum database's log: see it as early as possible.
            if policy.policy.minimumReleaseAge != nil {
                // A runner of a fleet learns the log's history from the fleet's store first.
                await proxy.readFleetHistory()
                await proxy.recordChecksumDatabaseHead()
            }
            // Start-up's code (argument parsing, configuration, the index
            // load) is done with: let its pages go.
            ResidentMemory.trim()
        }
        let listening = inherited.map { "\($0.count) sockets passed by systemd" } ?? configuration.listen.description
        let status: @Sendable () -> AgentStatusReport = { [socketActivated = inherited != nil] in
            AgentStatusReport(
                started: started, listening: listening, socketActivated: socketActivated, proxy: proxy,
                upstreams: chain.health, prefetcher: prefetcher, statistics: statistics)
        }
        let endpoints = AgentEndpoints(
            prefetch: PrefetchEndpoint(prefetcher: prefetcher),
            health: HealthEndpoints(store: store, upstreams: chain.health, shared: shared), metrics: metrics,
            control: ControlAPI(
                administration: CacheAdministration(store: store, releaseDating: proxy.releaseDating), status: status, policy: policy,
                judge: { await proxy.policyVerdict(module: $0, version: $1) }))

        let listeners: [HTTPServer.Listener]
        if let inherited {
            listeners = inherited.map { .descriptor($0.descriptor) }
            if configuration.listenWasGiven {
                logger.notice("socket-activated: serving the sockets systemd passed, not --listen")
            }
        } else {
            listeners = [.address(configuration.listen)]
        }
        // Idle exit is for socket activation, where the next connection starts goedge again.
        let idleTimeout = configuration.idleTimeout.duration(socketActivated: inherited != nil)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: UsableProcessors.count)
        let service = HTTPServerService(
            listeners: listeners, group: group,
            context: HTTPServer.Context(
                proxy: proxy, endpoints: endpoints, statistics: statistics, activity: ActivityTracker(), logger: logger,
                admission: Admission(
                    clientHosts: configuration.clientHosts, controlHosts: configuration.controlHosts,
                    clientCredentials: configuration.clientCredentials, controlToken: controlToken),
                limits: configuration.limits,
                maximumConnections: configuration.maximumConnections, tls: configuration.tls),
            busy: { proxy.background.jobsRunning > 0 },
            shutdownTimeout: configuration.shutdownTimeout, idleTimeout: idleTimeout, readiness: readiness,
            notifier: notifier, store: store, upstreams: "\(configuration.upstreams)")
        // The group traps SIGTERM and SIGINT before it starts the server, so
        // no signal can arrive unhandled once goedge says it listens.
        // The server returning on its own (the idle exit) is a normal end too.
        // Shut down in reverse: the server drains its responses first, then the background work stops.
        let services = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: BackgroundWorkService(work: proxy.background, engine: engine)),
                    .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await services.run()
        } catch {
            logger.critical("stopped on an error", metadata: ["error": "\(error)"])
            try? await group.shutdownGracefully()
            throw AgentExit.failed
        }
        try? await group.shutdownGracefully()
        let readAhead = proxy.readAhead.statistics
        logger.notice(
            "stopped",
            metadata: ["files_read_ahead": "\(readAhead.filesReadAhead)", "read_ahead_used": "\(readAhead.filesUsed)"])
    }

    /// How the cooldown dates versions: by the checksum database's log
    /// (sizes seen kept in the cache folder), or by first sight without one.
    static func releaseDating(_ configuration: AgentConfiguration, engine: CurlEngine) -> ReleaseDating {
        guard let database = configuration.checksumDatabase else {
            return ReleaseDating(authority: .firstSeen, history: TreeHeadHistory(file: nil))
        }
        let direct = database.url.flatMap { try? UpstreamList(parsing: $0) }.map {
            DirectChecksumDatabase(chain: UpstreamChain(list: $0, engine: engine)) as any ChecksumDatabaseFetching
        }
        let file = configuration.cacheDirectory + "/checksum-heads." + database.key.name.replacingOccurrences(of: "/", with: "%2F")
        return ReleaseDating(
            authority: .checksumDatabase(database, notCovered: configuration.noChecksumDatabase, direct: direct),
            history: TreeHeadHistory(file: file))
    }
}

/// How the agent ended when it could not run: the command turns it into the exit status.
package enum AgentExit: Error, Equatable {
    /// Something went wrong that a restart may mend (exit 1).
    case failed
    /// The configuration cannot work (exit 78, EX_CONFIG: the units do not restart on it).
    case configuration

    package var status: Int32 {
        switch self {
        case .failed: 1
        case .configuration: 78
        }
    }
}
