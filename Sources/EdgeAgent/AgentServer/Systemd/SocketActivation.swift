import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// The listening sockets systemd hands over when it starts goedge through a
/// `.socket` unit (or `systemd-socket-activate`): `LISTEN_FDS`, `LISTEN_PID`
/// and `LISTEN_FDNAMES`, read with `sd_listen_fds_with_names`.
enum SocketActivation {
    struct InheritedSocket: Sendable, Equatable {
        let descriptor: Int32
        /// The `FileDescriptorName=` of the socket unit (`goedge` by default).
        let name: String
    }

    enum Failure: Error, CustomStringConvertible {
        case unreadable(Int32)
        case notAListeningStreamSocket(descriptor: Int32, name: String)

        var description: String {
            switch self {
            case .unreadable(let error):
                "cannot read the sockets passed by systemd: \(String(cString: strerror(error)))"
            case .notAListeningStreamSocket(let descriptor, let name):
                "the socket passed by systemd as fd \(descriptor) (\(name)) is not a listening stream socket; "
                    + "goedge needs ListenStream= sockets"
            }
        }
    }

    /// The inherited listening sockets, or nil when goedge was not socket-activated.
    /// The environment variables are removed so that children do not see them.
    static func inheritedSockets() throws(Failure) -> [InheritedSocket]? {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        guard count >= 0 else { throw .unreadable(-count) }
        guard count > 0 else { return nil }
        defer {
            for index in 0..<Int(count) { free(names?[index]) }
            free(names)
        }
        var sockets: [InheritedSocket] = []
        for index in 0..<Int(count) {
            let descriptor = goedge_sd_listen_fds_start() + Int32(index)
            let name = names?[index].map { String(cString: $0) } ?? "unknown"
            guard sd_is_socket(descriptor, AF_UNSPEC, Int32(SOCK_STREAM.rawValue), 1) > 0 else {
                throw .notAListeningStreamSocket(descriptor: descriptor, name: name)
            }
            // systemd passes them inheritable; nothing goedge starts should hold them.
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            sockets.append(InheritedSocket(descriptor: descriptor, name: name))
        }
        return sockets
    }
}
