import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import Synchronization
import Sync

/// The agent's HTTP/1.1 listeners: one server channel per address (or per
/// socket handed over by systemd), all serving the same proxy.
final class HTTPServer: Sendable {
    /// Where to listen.
    enum Listener: Sendable {
        case address(ListenAddress)
        /// An already bound, listening socket (socket activation).
        case descriptor(Int32)
    }

    let channels: [any Channel]
    private let group: any EventLoopGroup
    private let quiescing: ServerQuiescingHelper

    private init(channels: [any Channel], group: any EventLoopGroup, quiescing: ServerQuiescingHelper) {
        self.channels = channels
        self.group = group
        self.quiescing = quiescing
    }

    static func start(
        listeners: [Listener], group: any EventLoopGroup, proxy: ModuleProxy,
        agentEndpoints: @escaping ProxyRequestHandler.AgentEndpoints,
        connectionObserver: (@Sendable () -> (any ChannelHandler & Sendable))? = nil, logger: Logger
    ) async throws -> HTTPServer {
        let quiescing = ServerQuiescingHelper(group: group)
        let routes = RouteMemo()
        var channels: [any Channel] = []
        do {
            for listener in listeners {
                let isTCP: Bool
                switch listener {
                case .address(let address): if case .unix = address.kind { isTCP = false } else { isTCP = true }
                case .descriptor: isTCP = true
                }
                var bootstrap = ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                            if let observer = connectionObserver {
                                try channel.pipeline.syncOperations.addHandler(observer())
                            }
                        }
                    }
                    .childChannelOption(.maxMessagesPerRead, value: 16)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                ProxyRequestHandler(proxy: proxy, routes: routes, agentEndpoints: agentEndpoints, logger: logger))
                        }
                    }
                if isTCP { bootstrap = bootstrap.childChannelOption(.socketOption(.tcp_nodelay), value: 1) }
                let channel: any Channel
                switch listener {
                case .address(let address):
                    switch address.kind {
                    case .tcp(let host, let port):
                        channel = try await bootstrap.bind(host: host, port: port).get()
                    case .unix(let path):
                        channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
                    }
                case .descriptor(let descriptor):
                    channel = try await bootstrap.withBoundSocket(descriptor).get()
                }
                channels.append(channel)
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        return HTTPServer(channels: channels, group: group, quiescing: quiescing)
    }

    /// Listening addresses as URLs, for the log and for clients.
    var urls: [String] {
        channels.compactMap { channel in
            guard let address = channel.localAddress else { return nil }
            switch address {
            case .v4(let v4): return "http://\(v4.host):\(address.port ?? 0)"
            case .v6(let v6): return "http://[\(v6.host)]:\(address.port ?? 0)"
            case .unixDomainSocket: return "unix:\(address.pathname ?? "")"
            }
        }
    }

    /// Stops accepting, lets every response in flight finish and closes idle
    /// connections; gives up waiting after `timeout`.
    func shutdown(timeout: Duration) async {
        let promise = group.next().makePromise(of: Void.self)
        quiescing.initiateShutdown(promise: promise)
        let resumed = Mutex(false)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeOnce: @Sendable () -> Void = {
                if resumed.withLock({ done in defer { done = true }; return !done }) { continuation.resume() }
            }
            promise.futureResult.whenComplete { _ in resumeOnce() }
            group.next().scheduleTask(in: .milliseconds(timeout.milliseconds)) { resumeOnce() }
        }
    }
}

extension Duration {
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
