#if canImport(Glibc)
import Glibc
#endif
import LRUCache
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import Synchronization
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin

/// The agent's HTTP/1.1 listeners: one listening channel per address (or per
/// socket handed over by systemd), all serving the same proxy.
///
/// Every listening channel runs on one event loop, `acceptLoop`, and counts
/// the connections it accepts there; the idle exit checks on that same loop,
/// so it can never decide "idle" while a connection is being accepted.
final class HTTPServer: Sendable {
    /// Where to listen.
    enum Listener: Sendable, CustomStringConvertible {
        case address(ListenAddress)
        /// An already bound, listening socket (socket activation).
        case descriptor(Int32)

        var description: String {
            switch self {
            case .address(let address): "\(address)"
            case .descriptor(let descriptor): "fd \(descriptor)"
            }
        }
    }

    /// What every connection needs.
    struct Context: Sendable {
        let proxy: ModuleProxy
        let endpoints: any AgentEndpointServing
        let statistics: ServerStatistics
        let activity: ActivityTracker
        let logger: Logger
        /// Who may connect, fetch modules and use the control API.
        var admission = Admission()
        /// Keep-alive connections with no request for this long are closed.
        var keepAliveTimeout: Duration = .seconds(75)
        var limits = ConnectionLimits()
        /// Connections served at once; those beyond get a 503 and are closed.
        var maximumConnections = 2048
        /// TCP listeners speak TLS with this; nil: plain HTTP.
        var tls: ServerTLS?
    }

    let channels: [any Channel]
    let acceptLoop: any EventLoop
    private let group: any EventLoopGroup
    /// Made on `acceptLoop` and let go there by ``shutdown(timeout:)``: as
    /// it goes, the helper completes a promise of that loop's, which from
    /// any other thread means scheduling work on it, and once the group has
    /// stopped that is an error (a future SwiftNIO traps on it).
    private let quiescing: NIOLoopBoundBox<ServerQuiescingHelper?>
    private let connections: OpenConnections
    /// Whether TCP listeners speak TLS.
    let tlsEnabled: Bool

    private init(
        channels: [any Channel], acceptLoop: any EventLoop, group: any EventLoopGroup, quiescing: ServerQuiescingHelper,
        connections: OpenConnections, tlsEnabled: Bool
    ) {
        self.tlsEnabled = tlsEnabled
        self.channels = channels
        self.acceptLoop = acceptLoop
        self.group = group
        self.quiescing = .makeBoxSendingValue(quiescing, eventLoop: acceptLoop)
        self.connections = connections
    }

    static func start(listeners: [Listener], group: any EventLoopGroup, context: Context) async throws -> HTTPServer {
        let acceptLoop = group.next()
        let quiescing = ServerQuiescingHelper(group: acceptLoop)
        let connections = OpenConnections()
        let routes = RouteMemo()
        var channels: [any Channel] = []
        do {
            for listener in listeners {
                let isTCP: Bool
                switch listener {
                case .address(let address): if case .unix = address.kind { isTCP = false } else { isTCP = true }
                case .descriptor(let descriptor): isTCP = Self.isInternetSocket(descriptor)
                }
                var bootstrap = ServerBootstrap(group: acceptLoop, childGroup: group)
                    .serverChannelOption(.backlog, value: 256)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                            try channel.pipeline.syncOperations.addHandler(ConnectionCounter(tracker: context.activity, open: connections))
                        }
                    }
                    .childChannelOption(.maxMessagesPerRead, value: 16)
                    // A client that shuts its side after its request still gets the answer.
                    .childChannelOption(.allowRemoteHalfClosure, value: true)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            // Everything below, refusals included, speaks through TLS when it is on.
                            let tls = isTCP ? context.tls : nil
                            if let tls {
                                try channel.pipeline.syncOperations.addHandler(PlainHTTPGuard())
                                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                            }
                            // The counter saw this connection already: it is one of the open ones.
                            // Decided on the peer's address alone, before a byte is read.
                            let peer = channel.remoteAddress
                            if !context.admission.admitsConnection(from: Admission.Peer(address: peer)) {
                                try channel.pipeline.syncOperations.addHandler(
                                    ConnectionRefusal(
                                        .clientNotAllowed(peer?.ipAddress ?? peer.map { "\($0)" } ?? "?"), logger: context.logger,
                                        timeout: context.limits.headTimeout))
                                return
                            }
                            // Served connections only: refused ones (held until their refusal is taken) do not count.
                            guard context.activity.startServing(maximum: context.maximumConnections) else {
                                try channel.pipeline.syncOperations.addHandler(
                                    ConnectionRefusal(
                                        .tooManyConnections(maximum: context.maximumConnections), logger: context.logger,
                                        timeout: context.limits.headTimeout))
                                return
                            }
                            channel.closeFuture.whenComplete { _ in context.activity.stopServing() }
                            try channel.pipeline.syncOperations.addHandler(
                                IdleStateHandler(readTimeout: .nanoseconds(context.keepAliveTimeout.nanoseconds)))
                            try channel.pipeline.syncOperations.addHandler(
                                HTTPConnectionHandler(context: context, routes: routes, encrypted: tls != nil))
                        }
                    }
                // TCP_NODELAY is a TCP-level option (at the socket level, option 1 would be SO_DEBUG).
                if isTCP { bootstrap = bootstrap.childChannelOption(.tcpOption(.tcp_nodelay), value: 1) }
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
        return HTTPServer(
            channels: channels, acceptLoop: acceptLoop, group: group, quiescing: quiescing, connections: connections,
            tlsEnabled: context.tls != nil)
    }

    /// Whether a socket systemd passed is TCP (IPv4 or IPv6) rather than a
    /// unix socket: TLS and TCP_NODELAY are for TCP only.
    private static func isInternetSocket(_ descriptor: Int32) -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { return true }
        return Int32(address.ss_family) == AF_INET || Int32(address.ss_family) == AF_INET6
    }

    /// Listening addresses as URLs, for the log and for clients.
    var urls: [String] {
        let scheme = tlsEnabled ? "https" : "http"
        return channels.compactMap { channel in
            guard let address = channel.localAddress else { return nil }
            switch address {
            case .v4(let v4): return "\(scheme)://\(v4.host):\(address.port ?? 0)"
            case .v6(let v6): return "\(scheme)://[\(v6.host)]:\(address.port ?? 0)"
            case .unixDomainSocket: return "unix:\(address.pathname ?? "")"
            }
        }
    }

    /// Closes the listening channels at once. Called on `acceptLoop`, after
    /// that nothing more is accepted; under socket activation the sockets
    /// themselves stay open in systemd, which keeps new connections queued
    /// for the next start.
    func stopAccepting() {
        acceptLoop.preconditionInEventLoop()
        for channel in channels { channel.close(promise: nil) }
    }

    /// Stops accepting, lets every response in flight finish and closes idle
    /// connections; after `timeout` closes what is still open.
    func shutdown(timeout: Duration) async {
        let promise = acceptLoop.makePromise(of: Void.self)
        acceptLoop.execute { [quiescing] in quiescing.value?.initiateShutdown(promise: promise) }
        if await !Self.completes(promise.futureResult, within: timeout, on: acceptLoop) {
            // Cut here, while every event loop still runs: the quiescing
            // helper's bookkeeping for each closed connection hops to the
            // accepting loop, which must not have stopped yet.
            connections.closeAll()
            _ = await Self.completes(promise.futureResult, within: .seconds(1), on: acceptLoop)
        }
        try? await acceptLoop.submit { [quiescing] in quiescing.value = nil }.get()
    }

    /// Whether `future` completed before `timeout` passed.
    private static func completes(_ future: EventLoopFuture<Void>, within timeout: Duration, on loop: any EventLoop) async -> Bool {
        let outcome = Settlement<Bool>()
        future.whenComplete { _ in outcome.settle(true) }
        loop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) { outcome.settle(false) }
        return await outcome.value
    }
}

extension Duration {
    /// Whole milliseconds, saturating (no duration from outside can trap a conversion).
    var milliseconds: Int64 { nanosecondCount / 1_000_000 }

    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 { nanosecondCount }
}
