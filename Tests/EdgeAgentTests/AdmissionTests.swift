import Foundation
import NIOCore
import Testing

@testable import AgentServer

/// ``Admission``, the one place that decides who may do what, as a table:
/// settings × peer × what is asked × credentials → the verdict. (The same
/// rules are tested end to end, over real sockets, in AccessControlTests.)
@Suite struct AdmissionTests {
    static let agentUser: UInt32 = 999
    static let basic = "Basic " + Data("ci:s3cret".utf8).base64EncodedString()
    static let wrongBasic = "Basic " + Data("ci:guess".utf8).base64EncodedString()
    static let bearer = "Bearer control-7f"

    /// The defaults: loopback may use the control API, anyone who connects may fetch.
    static let open = Admission(controlHosts: [HostPattern(parsing: "127.0.0.1")!, HostPattern(parsing: "::1")!],
        controlToken: "control-7f", agentUser: agentUser)

    /// A CI sidecar: job containers (10.0.0.0/8) with credentials, the host itself for control.
    static let sidecar = Admission(
        clientHosts: [HostPattern(parsing: "10.0.0.0/8")!], controlHosts: [HostPattern(parsing: "127.0.0.1")!],
        clientCredentials: try! ClientCredentials(parsing: "ci:s3cret\n"), controlToken: "control-7f", agentUser: agentUser)

    static func tcp(_ address: String) -> Admission.Peer {
        Admission.Peer(address: try! SocketAddress(ipAddress: address, port: 40000))
    }

    static func unix(_ user: UInt32) -> Admission.Peer {
        Admission.Peer(address: try! SocketAddress(unixDomainSocketPath: "/run/goedge/goedge.sock"), unixUser: user)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let admission: Admission
        let peer: Admission.Peer
        let access: Admission.Access
        let authorization: String?
        let verdict: Admission.Verdict
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // Modules, open agent: anyone, no user.
        Case(name: "open: a remote address fetches", admission: open, peer: tcp("192.0.2.7"), access: .modules, authorization: nil,
            verdict: .allow(user: nil)),
        Case(name: "open: credentials are not asked, and not named", admission: open, peer: tcp("192.0.2.7"), access: .modules,
            authorization: basic, verdict: .allow(user: nil)),
        // Modules, sidecar: client-hosts, then credentials.
        Case(name: "sidecar: a job with its token", admission: sidecar, peer: tcp("10.1.2.3"), access: .modules, authorization: basic,
            verdict: .allow(user: "ci")),
        Case(name: "sidecar: a job without credentials", admission: sidecar, peer: tcp("10.1.2.3"), access: .modules,
            authorization: nil, verdict: .refuse(.credentialsNeeded)),
        Case(name: "sidecar: a job with the wrong token", admission: sidecar, peer: tcp("10.1.2.3"), access: .modules,
            authorization: wrongBasic, verdict: .refuse(.wrongCredentials)),
        Case(name: "sidecar: the control token is not a client's", admission: sidecar, peer: tcp("10.1.2.3"), access: .modules,
            authorization: bearer, verdict: .refuse(.wrongCredentials)),
        Case(name: "sidecar: outside client-hosts, even with the token", admission: sidecar, peer: tcp("192.0.2.7"),
            access: .modules, authorization: basic, verdict: .refuse(.notAClientHost)),
        Case(name: "sidecar: a control host outside client-hosts fetches nothing", admission: sidecar, peer: tcp("127.0.0.1"),
            access: .modules, authorization: basic, verdict: .refuse(.notAClientHost)),
        Case(name: "sidecar: the unix socket still needs credentials", admission: sidecar, peer: unix(agentUser), access: .modules,
            authorization: nil, verdict: .refuse(.credentialsNeeded)),
        // Monitoring: anyone who connected.
        Case(name: "metrics and health for anyone", admission: sidecar, peer: tcp("10.1.2.3"), access: .monitoring,
            authorization: nil, verdict: .allow(user: nil)),
        // The control API: control hosts read; changes need privilege or the token.
        Case(name: "loopback reads the control API", admission: open, peer: tcp("127.0.0.1"), access: .control, authorization: nil,
            verdict: .allow(user: nil)),
        Case(name: "IPv6 loopback reads it too", admission: open, peer: tcp("::1"), access: .control, authorization: nil,
            verdict: .allow(user: nil)),
        Case(name: "a remote address may not", admission: open, peer: tcp("192.0.2.7"), access: .control, authorization: bearer,
            verdict: .refuse(.notAControlHost)),
        Case(name: "a client host is not a control host", admission: sidecar, peer: tcp("10.1.2.3"), access: .control,
            authorization: basic, verdict: .refuse(.notAControlHost)),
        Case(name: "loopback without the token changes nothing", admission: open, peer: tcp("127.0.0.1"), access: .cacheChange,
            authorization: nil, verdict: .refuse(.changeNotAllowed)),
        Case(name: "loopback with the token changes the cache", admission: open, peer: tcp("127.0.0.1"), access: .cacheChange,
            authorization: bearer, verdict: .allow(user: nil)),
        Case(name: "a wrong token changes nothing", admission: open, peer: tcp("127.0.0.1"), access: .cacheChange,
            authorization: "Bearer control-7e", verdict: .refuse(.changeNotAllowed)),
        Case(name: "a client's Basic credentials are not the token", admission: sidecar, peer: tcp("127.0.0.1"), access: .cacheChange,
            authorization: basic, verdict: .refuse(.changeNotAllowed)),
        Case(name: "a remote address with the token changes nothing", admission: open, peer: tcp("192.0.2.7"), access: .cacheChange,
            authorization: bearer, verdict: .refuse(.notAControlHost)),
        Case(name: "root over the unix socket changes the cache", admission: open, peer: unix(0), access: .cacheChange,
            authorization: nil, verdict: .allow(user: nil)),
        Case(name: "goedge's own user over the unix socket too", admission: open, peer: unix(agentUser), access: .cacheChange,
            authorization: nil, verdict: .allow(user: nil)),
        Case(name: "another user over the unix socket reads", admission: open, peer: unix(4242), access: .control,
            authorization: nil, verdict: .allow(user: nil)),
        Case(name: "but changes nothing, even with the token", admission: open, peer: unix(4242), access: .cacheChange,
            authorization: bearer, verdict: .refuse(.changeNotAllowed)),
        Case(name: "a unix peer whose credentials could not be read changes nothing", admission: open,
            peer: unix(UInt32.max), access: .cacheChange, authorization: nil, verdict: .refuse(.changeNotAllowed)),
        Case(name: "no address at all is no control host", admission: open, peer: Admission.Peer(), access: .control,
            authorization: bearer, verdict: .refuse(.notAControlHost)),
    ]

    @Test(arguments: cases)
    func requests(_ example: Case) {
        #expect(example.admission.admit(example.access, from: example.peer, authorization: example.authorization) == example.verdict)
    }

    /// At accept, on the address alone: outside client-hosts and control-hosts is refused before a byte is read.
    @Test(arguments: [
        (open, tcp("192.0.2.7"), true),
        (sidecar, tcp("10.1.2.3"), true),
        (sidecar, tcp("127.0.0.1"), true),
        (sidecar, tcp("192.0.2.7"), false),
        (sidecar, tcp("::1"), false),
        (sidecar, unix(4242), true),
        (sidecar, Admission.Peer(), false),
    ] as [(Admission, Admission.Peer, Bool)])
    func connections(_ admission: Admission, _ peer: Admission.Peer, _ admitted: Bool) {
        #expect(admission.admitsConnection(from: peer) == admitted)
    }

    /// Each refusal says what to change, with the status a client acts on.
    @Test func refusalsSayWhy() {
        #expect(Admission.Refusal.credentialsNeeded.status == 401)
        #expect(Admission.Refusal.credentialsNeeded.headers.first?.name == "WWW-Authenticate")
        #expect(Admission.Refusal.notAClientHost.message.contains("client-hosts"))
        #expect(Admission.Refusal.notAControlHost.message.contains("control-hosts"))
        #expect(Admission.Refusal.changeNotAllowed.message.contains("control token"))
        #expect(Admission.Refusal.changeNotAllowed.metric == .control)
    }
}
