import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Who may do what: the one place that decides, for a connection as it is
/// accepted (on the peer's address alone, before a byte is read) and for
/// each of its requests (on the peer and the request head, before any body
/// is read). A plain value over the access settings, so that its rules are
/// tested as a table of cases (AdmissionTests) apart from any socket.
///
/// - `client-hosts`: only these addresses (and the control hosts, for the
///   control API) may connect; a control host outside it may not fetch modules.
/// - `client-credentials-file`: module requests carry one of its users'
///   tokens as HTTP Basic credentials.
/// - `control-hosts`: who may use prefetch and the control API; of those,
///   only root and the agent's own user over the unix socket (the kernel's
///   peer credentials) or a TCP peer with the control token may change the
///   cache. The unix socket is trusted as a control host: only processes
///   that can open its file connect.
/// - Metrics and health answer anyone who can connect, as monitoring expects.
struct Admission: Sendable {
    /// Who may use the module protocol; nil: anyone who can connect.
    var clientHosts: [HostPattern]?
    /// Who may use the control API.
    var controlHosts: [HostPattern] = []
    /// Who may fetch modules by HTTP Basic credentials; nil: not asked.
    var clientCredentials: ClientCredentials?
    /// What a TCP client sends to change the cache; nil: only the unix socket's privileged peers may.
    var controlToken: String?
    /// The agent's own user: with root, the unix peers that may change the cache.
    var agentUser: UInt32 = getuid()

    /// The other end of a connection, as the kernel tells it.
    struct Peer: Sendable, Equatable {
        var address: SocketAddress?
        /// Over the unix socket, the peer's user id (`SO_PEERCRED`;
        /// ``ClientIdentity/unknownUser`` when unreadable); nil over TCP.
        var unixUser: UInt32?
    }

    /// What a request asks for, as far as who asks matters.
    enum Access: Sendable, Equatable {
        /// The module protocol and the checksum database.
        case modules
        /// Metrics and health.
        case monitoring
        /// The control API's reading endpoints (status, list, policy check).
        case control
        /// What changes the cache: prefetch, remove, prune, import, verify.
        case cacheChange
    }

    /// Why a request is refused, with its answer.
    enum Refusal: Sendable, Equatable {
        case notAClientHost
        case credentialsNeeded
        case wrongCredentials
        case notAControlHost
        case changeNotAllowed

        var status: Int {
            switch self {
            case .credentialsNeeded, .wrongCredentials: 401
            case .notAClientHost, .notAControlHost, .changeNotAllowed: 403
            }
        }

        var message: String {
            switch self {
            case .notAClientHost: "this address may not fetch modules; the agent's client-hosts setting lists who may"
            case .credentialsNeeded: "credentials needed (HTTP Basic)"
            case .wrongCredentials: "wrong credentials"
            case .notAControlHost: "this address may not use the control API; the agent's control-hosts setting lists who may"
            case .changeNotAllowed:
                "changing the cache needs root or goedge's own user (over the unix socket) or the control token "
                    + "(over TCP: goedge's commands send the cache folder's control-token when they can read it)"
            }
        }

        var headers: [(name: String, value: String)] {
            switch self {
            case .credentialsNeeded, .wrongCredentials: [(name: "WWW-Authenticate", value: "Basic realm=\"goedge\", charset=\"UTF-8\"")]
            default: []
            }
        }

        /// How `goedge_refused_total` counts it; nil: not counted (a
        /// control-host refusal is the address's, not a client's mistake).
        var metric: RefusalMetrics.Reason? {
            switch self {
            case .notAClientHost: .clientHosts
            case .credentialsNeeded, .wrongCredentials: .credentials
            case .changeNotAllowed: .control
            case .notAControlHost: nil
            }
        }
    }

    enum Verdict: Sendable, Equatable {
        /// Served; `user` is who the credentials named, for the access log.
        case allow(user: String?)
        case refuse(Refusal)
    }

    /// Whether a connection from `peer` is served at all: outside
    /// `client-hosts` and `control-hosts` it is refused before a byte of it is read.
    func admitsConnection(from peer: Peer) -> Bool {
        guard let clientHosts else { return true }
        return Self.isListed(peer, in: clientHosts) || Self.isListed(peer, in: controlHosts)
    }

    /// Whether `peer` may make a request for `access`, carrying `authorization`.
    func admit(_ access: Access, from peer: Peer, authorization: String?) -> Verdict {
        switch access {
        case .monitoring:
            return .allow(user: nil)
        case .modules:
            if let clientHosts, !Self.isListed(peer, in: clientHosts) { return .refuse(.notAClientHost) }
            guard let clientCredentials else { return .allow(user: nil) }
            guard let user = clientCredentials.user(authorizing: authorization) else {
                return .refuse(authorization == nil ? .credentialsNeeded : .wrongCredentials)
            }
            return .allow(user: user)
        case .control, .cacheChange:
            guard Self.isListed(peer, in: controlHosts) else { return .refuse(.notAControlHost) }
            if access == .cacheChange && !mayChangeTheCache(peer, authorization: authorization) { return .refuse(.changeNotAllowed) }
            return .allow(user: nil)
        }
    }

    private func mayChangeTheCache(_ peer: Peer, authorization: String?) -> Bool {
        if let user = peer.unixUser { return user == 0 || user == agentUser }
        return controlToken.map { ControlToken.matches(authorization, token: $0) } == true
    }

    /// Whether the peer is one of `hosts`; a unix socket peer always is
    /// (only processes that can open the socket's file connect).
    static func isListed(_ peer: Peer, in hosts: [HostPattern]) -> Bool {
        switch peer.address {
        case .v4(let address):
            return hosts.contains { $0.contains(withUnsafeBytes(of: address.address.sin_addr.s_addr) { Array($0) }) }
        case .v6(let address):
            return hosts.contains { $0.contains(withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }) }
        case .unixDomainSocket:
            return true
        case nil:
            return false
        }
    }
}
