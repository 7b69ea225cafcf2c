import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a connection, for the access log: the
/// address and port over TCP, the user id over the unix socket (the
/// kernel's `SO_PEERCRED`, which the peer cannot forge).
enum ClientIdentity {
    /// `struct ucred` (pid, uid, gid), which Glibc's Swift module leaves out.
    struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// `SO_PEERCRED` on Linux.
    private static let peerCredentials: Int32 = 17

    /// The peer's user id over a unix socket (``unknownUser`` when it cannot
    /// be read); nil over TCP. Called on the channel's event loop, where the
    /// credentials are read at once.
    static func peerUID(_ channel: any Channel) -> UInt32? {
        guard case .unixDomainSocket? = channel.remoteAddress else { return nil }
        guard let provider = channel as? any SocketOptionProvider else { return unknownUser }
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: peerCredentials))
        if case .success(let credentials)? = future.syncResult { return credentials.uid }
        return unknownUser
    }

    /// A unix peer whose credentials could not be read: treated as unprivileged.
    static let unknownUser = UInt32.max

    /// The peer as the access log names it; `peerUID` as ``peerUID(_:)`` gave it.
    static func describe(_ channel: any Channel, peerUID: UInt32?) -> String {
        switch channel.remoteAddress {
        case .v4(let address)?:
            return "\(channel.remoteAddress?.ipAddress ?? "?"):\(UInt16(bigEndian: address.address.sin_port))"
        case .v6(let address)?:
            return "[\(channel.remoteAddress?.ipAddress ?? "?")]:\(UInt16(bigEndian: address.address.sin6_port))"
        case .unixDomainSocket?:
            return peerUID.map { $0 == unknownUser ? "unix" : "uid=\($0)" } ?? "unix"
        case nil:
            return "?"
        }
    }
}

extension EventLoopFuture where Value: Sendable {
    /// The result, when the future is already complete (read on its loop).
    fileprivate var syncResult: Result<Value, any Error>? {
        let result = Mutex<Result<Value, any Error>?>(nil)
        whenComplete { completed in result.withLock { $0 = completed } }
        return result.withLock { $0 }
    }
}
