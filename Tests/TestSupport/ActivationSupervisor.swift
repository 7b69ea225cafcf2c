import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Plays systemd's part for socket activation in tests: holds listening
/// sockets the way a `.socket` unit does, starts goedge when a connection
/// waits on one, starts it again after it exits, and receives its
/// `sd_notify` messages on a `NOTIFY_SOCKET` of its own.
public final class ActivationSupervisor: @unchecked Sendable {
    /// One sd_notify message, and the goedge instance (1, 2, …) that sent it.
    public struct Notification: Sendable {
        public let instance: Int
        public let text: String
        /// The instance's log at the moment the message arrived.
        public let logSoFar: String
    }

    public struct Exit: Sendable {
        public let instance: Int
        public let status: Int32
        public let log: String
    }

    public let ports: [Int]
    private let listeners: [Int32]
    private let notifySocket: Int32
    private let folder = TemporaryDirectory()
    private let arguments: [String]
    private let environment: [String: String]
    private let lock = NSLock()
    private var notifications: [Notification] = []
    private var exits: [Exit] = []
    private var starts = 0
    private var running: ChildProcess?
    private var stopped = false
    private var thread: Thread?

    /// Listens on `count` loopback ports; `arguments` follow `goedge`.
    public init(count: Int = 1, arguments: [String], environment: [String: String] = [:]) throws {
        var listeners: [Int32] = []
        var ports: [Int] = []
        for _ in 0..<count {
            let (fd, port) = try Self.listen()
            listeners.append(fd)
            ports.append(port)
        }
        self.listeners = listeners
        self.ports = ports
        self.arguments = arguments
        self.environment = environment
        notifySocket = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = folder.path + "/notify"
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.utf8CString.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count - 1))) }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(notifySocket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw TestFailure("cannot bind NOTIFY_SOCKET: \(errno)") }
        let thread = Thread { [unowned self] in self.supervise() }
        self.thread = thread
        thread.start()
    }

    deinit { stop() }

    public var notifyPath: String { folder.path + "/notify" }

    public func received() -> [Notification] { lock.withLock { notifications } }
    public func exited() -> [Exit] { lock.withLock { exits } }
    public var instancesStarted: Int { lock.withLock { starts } }
    public var isRunning: Bool { lock.withLock { running != nil } }

    /// Stops supervising and kills a running instance.
    public func stop() {
        let child: ChildProcess? = lock.withLock {
            stopped = true
            return running
        }
        child?.kill()
        while let thread, !thread.isFinished { usleep(10_000) }
        for fd in listeners { close(fd) }
        close(notifySocket)
    }

    private func supervise() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !lock.withLock({ stopped }) {
            let child = lock.withLock { running }
            // Like systemd: while the service runs, the service accepts; otherwise
            // a waiting connection starts it.
            var descriptors = [pollfd(fd: notifySocket, events: Int16(POLLIN), revents: 0)]
            if child == nil {
                descriptors += listeners.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            }
            _ = poll(&descriptors, nfds_t(descriptors.count), 20)
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                let count = recv(notifySocket, &buffer, buffer.count, 0)
                if count > 0 {
                    let text = String(decoding: buffer[0..<count], as: UTF8.self)
                    lock.withLock {
                        notifications.append(Notification(instance: starts, text: text, logSoFar: running?.errorOutput ?? ""))
                    }
                }
            }
            if let child {
                if let status = child.status {
                    lock.withLock {
                        exits.append(Exit(instance: starts, status: status, log: child.errorOutput))
                        running = nil
                    }
                }
            } else if descriptors.dropFirst().contains(where: { $0.revents & Int16(POLLIN) != 0 }) {
                start()
            }
        }
    }

    private func start() {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LISTEN_") }
        env.merge(environment) { $1 }
        env["LISTEN_FDS"] = String(listeners.count)
        env["LISTEN_FDNAMES"] = Array(repeating: "goedge", count: listeners.count).joined(separator: ":")
        env["NOTIFY_SOCKET"] = notifyPath
        // LISTEN_PID (and WATCHDOG_PID) must be the service's own pid: the
        // shell learns it ($$) and keeps it across exec.
        let script = #"export LISTEN_PID=$$; [ -n "$WATCHDOG_USEC" ] && export WATCHDOG_PID=$$; exec "$0" "$@""#
        do {
            let child = try ChildProcess("/bin/sh", ["-c", script, Paths.goedge] + arguments, environment: env, passing: listeners)
            lock.withLock {
                starts += 1
                running = child
            }
        } catch {
            lock.withLock { stopped = true }
        }
    }

    /// A listening TCP socket on 127.0.0.1 and its port.
    private static func listen() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else { throw TestFailure("cannot listen: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
