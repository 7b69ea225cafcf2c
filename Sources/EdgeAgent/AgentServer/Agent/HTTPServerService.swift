import LRUCache
import Logging
import NIOCore
import ServiceLifecycle
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin

/// Opens the listeners and keeps them until a graceful shutdown (a signal)
/// or the idle exit, then drains them. Meanwhile it reports to systemd:
/// readiness, status, watchdog pings.
///
/// Its description is its name: the service group describes each service
/// when it is configured, and the default description reflects over every
/// stored property, the whole proxy included, which took milliseconds of
/// a socket-activated start.
struct HTTPServerService: Service, CustomStringConvertible {
    var description: String { "HTTPServerService" }

    let listeners: [HTTPServer.Listener]
    let group: any EventLoopGroup
    let context: HTTPServer.Context
    /// Whether downloads or prefetch jobs are under way (the idle exit waits for them).
    let busy: @Sendable () -> Bool
    let shutdownTimeout: Duration
    let idleTimeout: Duration?
    let readiness: Readiness
    let notifier: ServiceNotifier
    let store: DiskCache
    /// The upstream list, as the log shows it.
    let upstreams: String

    private var logger: Logger { context.logger }

    func run() async throws {
        let server: HTTPServer
        do {
            server = try await HTTPServer.start(listeners: listeners, group: group, context: context)
        } catch {
            logger.critical("cannot listen", metadata: ["listeners": "\(listeners)", "error": "\(error)"])
            throw error
        }
        logger.notice(
            "goedge \(GoEdgeVersion.current) listening",
            metadata: [
                "urls": "\(server.urls.joined(separator: " "))", "upstream": "\(upstreams)",
                "idle_timeout": "\(idleTimeout.map(DurationText.format) ?? "off")",
            ])
        readiness.serving()
        let reporting = startReporting(on: server.acceptLoop)
        defer { reporting.forEach { $0.cancel() } }

        let (idle, idleReached) = AsyncStream<Void>.makeStream()
        let idleExit = idleTimeout.map { timeout in
            IdleExit(
                timeout: timeout, activity: context.activity, loop: server.acceptLoop,
                busy: busy,
                onIdle: {
                    server.stopAccepting()
                    idleReached.yield()
                })
        }
        idleExit?.start()
        defer { idleExit?.stop() }

        // Whichever comes first: a signal, or the quiet period.
        let reason = await withTaskGroup(of: String.self) { tasks in
            tasks.addTask {
                try? await gracefulShutdown()
                return "shutting down"
            }
            tasks.addTask {
                for await _ in idle { return "idle for \(DurationText.format(idleTimeout ?? .zero)): exiting" }
                return "shutting down"
            }
            let first = await tasks.next() ?? "shutting down"
            tasks.cancelAll()
            return first
        }
        notifier.stopping()
        logger.notice("\(reason): no new connections, finishing responses in flight")
        await server.shutdown(timeout: shutdownTimeout)
    }

    /// Watchdog pings (when systemd asks for them) and a fresh status line,
    /// from the accepting event loop: if it stops turning, the pings stop.
    private func startReporting(on loop: any EventLoop) -> [RepeatedTask] {
        var tasks: [RepeatedTask] = []
        if let interval = ServiceNotifier.watchdogInterval() {
            let ping = Int64(interval.nanoseconds / 2)
            tasks.append(loop.scheduleRepeatedTask(initialDelay: .nanoseconds(ping), delay: .nanoseconds(ping)) { [notifier] _ in
                notifier.watchdog()
            })
        }
        tasks.append(loop.scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { [notifier, store, context] _ in
            notifier.status(AgentStatus.describe(store: store, statistics: context.statistics))
        })
        let trim = QuietTrim()
        tasks.append(loop.scheduleRepeatedTask(initialDelay: .seconds(5), delay: .seconds(5)) { [busy, context] _ in
            trim.check(working: busy() || context.activity.openConnections > 0)
        })
        return tasks
    }
}

/// The one-line state of the agent, for systemd's STATUS=.
enum AgentStatus {
    static func describe(store: DiskCache, statistics: ServerStatistics) -> String {
        let cache = store.statistics()
        var text = "\(cache.files) files in \(cache.groups) entries, \(ByteSize.format(cache.diskUsage)) of \(ByteSize.format(cache.maxSize))"
        if let ratio = statistics.hitRatio {
            text += "; \(Int((ratio * 100).rounded()))% of \(statistics.total) answers from cache"
        }
        return text
    }
}
