import Foundation
import Testing
import TestSupport

/// A self-signed certificate for 127.0.0.1, ::1 and localhost, made with
/// the openssl command in `folder`.
func makeCertificate(in folder: TemporaryDirectory, name: String = "agent") throws -> (certificate: String, key: String) {
    let certificate = folder.path + "/\(name).crt"
    let key = folder.path + "/\(name).key"
    let made = try ChildProcess.run(
        which("openssl")!,
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=goedge test", "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
            "-keyout", key, "-out", certificate,
        ])
    guard made.status == 0 else { throw TestFailure("openssl: \(made)") }
    return (certificate, key)
}

extension Integration {
    /// `tls-certificate` and `tls-key`: TCP listeners speak HTTPS, which the
    /// go command needs before it sends credentials from .netrc or from the
    /// GOPROXY URL.
    @Suite(.enabled(if: which("openssl") != nil && which("curl") != nil, "needs openssl and curl"))
    struct TLS {
        @Test func theGoCommandSendsItsNetrcCredentialsOverHTTPS() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            let (certificate, key) = try makeCertificate(in: folder)
            let token = "tls-token-5b1e"
            try folder.write("clients", "ci:\(token)\n")
            let agent = try AgentProcess(
                upstream: upstream.url,
                arguments: ["--tls-certificate", certificate, "--tls-key", key, "--client-credentials-file", folder.path + "/clients"])
            #expect(agent.url.hasPrefix("https://127.0.0.1:"))
            try folder.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")

            var go = GoCommand(proxy: agent.url, home: folder.path + "/home")
            go.extraEnvironment = ["SSL_CERT_FILE": certificate, "NETRC": folder.path + "/netrc"]
            // No .netrc: refused, with the agent's reason.
            let refused = try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: folder.path + "/app")
            #expect(refused.status != 0)
            #expect(refused.errorOutput.contains("401 Unauthorized"), "\(refused)")

            // The lines a CI job writes: the go command now authenticates.
            // Go 1.19-1.23 match the machine by host alone, Go 1.24+
            // (GOAUTH=netrc) by host and port, so a job serving both writes both.
            try folder.write(
                "netrc",
                "machine 127.0.0.1:\(agent.port) login ci password \(token)\nmachine 127.0.0.1 login ci password \(token)\n")
            let fetched = try go.run(["mod", "download", "-json", "example.com/hello@v1.3.0", "example.com/big@v1.0.0"], in: folder.path + "/app")
            #expect(fetched.status == 0, "\(fetched)")
            // Byte for byte what the upstream has; the big zip (2 MiB) went through TLS from the cache file too.
            var direct = GoCommand(proxy: upstream.url, home: folder.path + "/direct")
            direct.extraEnvironment = ["NETRC": "/dev/null"]
            #expect(try direct.run(["mod", "download", "example.com/hello@v1.3.0", "example.com/big@v1.0.0"], in: folder.path + "/app").status == 0)
            #expect(go.downloadedFiles() == direct.downloadedFiles())
            #expect(go.downloadedFiles().keys.contains("example.com/big/@v/v1.0.0.zip"))

            // Credentials in the GOPROXY URL work as well, and the hits are served over TLS.
            var inURL = GoCommand(proxy: "https://ci:\(token)@127.0.0.1:\(agent.port)", home: folder.path + "/url")
            inURL.extraEnvironment = ["SSL_CERT_FILE": certificate, "NETRC": "/dev/null"]
            let again = try inURL.run(["mod", "download", "example.com/hello@v1.3.0", "example.com/big@v1.0.0"], in: folder.path + "/app")
            #expect(again.status == 0, "\(again)")
            #expect(inURL.downloadedFiles() == direct.downloadedFiles())

            #expect(agent.log.split(separator: "\n").contains { $0.contains("big/@v/v1.0.0.zip 200") && $0.contains("cache=hit") && $0.contains(" user=ci") })
            #expect(!agent.log.contains(token))
            #expect(agent.terminate() == 0)
        }

        /// Go 1.24+: GOAUTH=netrc needs the port in the machine name when
        /// the proxy has one (a host-only line is not used), and a GOAUTH
        /// command's Authorization header reaches the agent.
        @Test(.enabled(if: GoCommand.isAtLeast(minor: 24), "GOAUTH is Go 1.24+"))
        func goAuthNetrcAndACommandPrintingAnAuthorizationHeader() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            let (certificate, key) = try makeCertificate(in: folder)
            let token = "goauth-token-91c3"
            try folder.write("clients", "ci:\(token)\n")
            let agent = try AgentProcess(
                upstream: upstream.url,
                arguments: ["--tls-certificate", certificate, "--tls-key", key, "--client-credentials-file", folder.path + "/clients"])
            try folder.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")

            // GOAUTH=netrc (the default) with the machine named host:port.
            var netrc = GoCommand(proxy: agent.url, home: folder.path + "/netrc-home")
            netrc.extraEnvironment = ["SSL_CERT_FILE": certificate, "NETRC": folder.path + "/netrc", "GOAUTH": "netrc"]
            try folder.write("netrc", "machine 127.0.0.1 login ci password \(token)\n")
            let hostOnly = try netrc.run(["mod", "download", "example.com/hello@v1.3.0"], in: folder.path + "/app")
            #expect(hostOnly.status != 0 && hostOnly.errorOutput.contains("401 Unauthorized"), "\(hostOnly)")
            try folder.write("netrc", "machine 127.0.0.1:\(agent.port) login ci password \(token)\n")
            let withPort = try netrc.run(["mod", "download", "example.com/hello@v1.3.0"], in: folder.path + "/app")
            #expect(withPort.status == 0, "\(withPort)")

            // A GOAUTH command: it is given the URL and prints the URL prefix,
            // a blank line, the headers and a blank line (go help goauth).
            let basic = Data("ci:\(token)".utf8).base64EncodedString()
            try folder.write(
                "goauth-helper",
                "#!/bin/sh\nprintf '%s\\n\\nAuthorization: Basic %s\\n\\n' 'https://127.0.0.1:\(agent.port)' '\(basic)'\n")
            #expect(chmod(folder.path + "/goauth-helper", 0o755) == 0)
            var command = GoCommand(proxy: agent.url, home: folder.path + "/command-home")
            command.extraEnvironment = ["SSL_CERT_FILE": certificate, "NETRC": "/dev/null", "GOAUTH": folder.path + "/goauth-helper"]
            let viaCommand = try command.run(["mod", "download", "example.com/hello@v1.3.0", "example.com/big@v1.0.0"], in: folder.path + "/app")
            #expect(viaCommand.status == 0, "\(viaCommand)")
            #expect(command.downloadedFiles().keys.contains("example.com/big/@v/v1.0.0.zip"))
            // The helper's credentials were checked, not ignored: with a wrong token it is refused.
            try folder.write(
                "goauth-wrong",
                "#!/bin/sh\nprintf '%s\\n\\nAuthorization: Basic %s\\n\\n' 'https://127.0.0.1:\(agent.port)' '\(Data("ci:wrong".utf8).base64EncodedString())'\n")
            #expect(chmod(folder.path + "/goauth-wrong", 0o755) == 0)
            var wrong = GoCommand(proxy: agent.url, home: folder.path + "/wrong-home")
            wrong.extraEnvironment = ["SSL_CERT_FILE": certificate, "NETRC": "/dev/null", "GOAUTH": folder.path + "/goauth-wrong"]
            let refused = try wrong.run(["mod", "download", "example.com/hello@v1.3.0"], in: folder.path + "/app")
            #expect(refused.status != 0 && refused.errorOutput.contains("401 Unauthorized"), "\(refused)")

            #expect(agent.log.split(separator: "\n").contains { $0.contains("big/@v/v1.0.0.zip 200") && $0.contains(" user=ci") })
            #expect(!agent.log.contains(token))
            #expect(agent.terminate() == 0)
        }

        /// Plain HTTP to the TLS port gets a plain answer saying what to
        /// change, not a dropped connection.
        @Test func plainHTTPIsToldToUseHTTPS() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            let (certificate, key) = try makeCertificate(in: folder)
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--tls-certificate", certificate, "--tls-key", key])
            let plain = try agent.get("/example.com/hello/@v/list")
            #expect(plain.status == 400)
            #expect(String(decoding: plain.body, as: UTF8.self).contains("this address speaks HTTPS"))
            // Still serving TLS afterwards.
            let list = try ChildProcess.run(
                which("curl")!, ["-sS", "--cacert", certificate, agent.url + "/example.com/hello/@v/list"])
            #expect(list.status == 0 && list.output.contains("v1.3.0"), "\(list)")
            #expect(agent.terminate() == 0)
        }

        /// A client that stops inside its TLS handshake (or never starts
        /// one) holds nothing for long: the request-head deadline cuts it off.
        @Test func aStalledHandshakeIsCutOff() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            let (certificate, key) = try makeCertificate(in: folder)
            let agent = try AgentProcess(
                upstream: upstream.url, arguments: ["--tls-certificate", certificate, "--tls-key", key, "--request-head-timeout", "1s"])
            for opening in [[], [0x16, 0x03, 0x01, 0x00] as [UInt8]] {
                let fd = try RawHTTP.connect(port: agent.port, timeout: .seconds(20))
                defer { close(fd) }
                if !opening.isEmpty { #expect(opening.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) } == 4) }
                let started = ContinuousClock.now
                var byte: UInt8 = 0
                // Closed (0), not timed out (-1 after 20 s).
                #expect(recv(fd, &byte, 1, 0) == 0, "\(opening)")
                #expect(ContinuousClock.now - started < .seconds(15))
            }
            #expect(agent.terminate() == 0)
        }

        /// Under socket activation the TCP sockets speak TLS and a unix
        /// socket passed beside them stays plain (goedge's commands use it).
        @Test(.enabled(if: which("systemd-socket-activate") != nil, "needs systemd-socket-activate"))
        func passedTCPSocketsSpeakTLSAndAUnixSocketStaysPlain() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            let (certificate, key) = try makeCertificate(in: folder)
            let port = try Integration.SocketActivation.freePort()
            let socket = folder.path + "/goedge.sock"
            let activator = try ChildProcess(
                which("systemd-socket-activate")!,
                ["-l", "127.0.0.1:\(port)", "-l", socket, Paths.goedge, "serve", "--config", "/dev/null", "--upstream", upstream.url,
                 "--cache-dir", folder.path + "/cache", "--tls-certificate", certificate, "--tls-key", key])
            _ = try activator.waitForLine(containing: "Listening on \(socket)", inErrorOutput: true)
            let secure = try ChildProcess.run(
                which("curl")!, ["-sS", "--cacert", certificate, "https://127.0.0.1:\(port)/example.com/hello/@v/list"])
            #expect(secure.status == 0 && secure.output.contains("v1.3.0"), "\(secure)")
            let plain = try ChildProcess.run(
                which("curl")!, ["-sS", "--unix-socket", socket, "http://localhost/example.com/hello/@v/list"])
            #expect(plain.status == 0 && plain.output.contains("v1.3.0"), "\(plain)")
            #expect(activator.errorOutput.contains("https://127.0.0.1:\(port)"), "\(activator.errorOutput)")
            activator.signal(SIGTERM)
            #expect(activator.waitForExit() == 0)
        }

        /// goedge's own commands reach an HTTPS agent, trusting its certificate.
        @Test func commandsReachAnHTTPSAgent() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            let (certificate, key) = try makeCertificate(in: folder)
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--tls-certificate", certificate, "--tls-key", key])
            let status = try ChildProcess.run(
                Paths.goedge, ["status", "--config", "/dev/null", "--agent", agent.url],
                environment: ProcessInfo.processInfo.environment.merging(["GOEDGE_TLS_CERTIFICATE": certificate]) { $1 })
            #expect(status.status == 0, "\(status)")
            #expect(status.output.contains("agent:     running at https://127.0.0.1:\(agent.port)"), "\(status)")
            // Without the certificate to trust, the command says why it cannot talk to the agent.
            let untrusted = try ChildProcess.run(Paths.goedge, ["status", "--config", "/dev/null", "--agent", agent.url])
            #expect(untrusted.status == 1, "\(untrusted)")
            #expect(untrusted.errorOutput.contains("certificate"), "\(untrusted)")
            #expect(untrusted.errorOutput.contains("tls-certificate"), "\(untrusted)")
            #expect(agent.terminate() == 0)
        }

        /// A certificate without its key, or with another key, stops the start (exit 78) and fails the check.
        @Test func aCertificateAndKeyThatDoNotGoTogetherAreRefused() throws {
            let folder = TemporaryDirectory()
            let (certificate, _) = try makeCertificate(in: folder)
            let (_, otherKey) = try makeCertificate(in: folder, name: "other")
            let mismatched = try ChildProcess.run(
                Paths.goedge, ["config", "--check", "--config", "/dev/null", "--tls-certificate", certificate, "--tls-key", otherKey])
            #expect(mismatched.status == 78, "\(mismatched)")
            #expect(mismatched.errorOutput.contains("the key does not go with the certificate"), "\(mismatched)")
            let alone = try ChildProcess.run(
                Paths.goedge, ["serve", "--config", "/dev/null", "--listen", "127.0.0.1:0", "--tls-certificate", certificate])
            #expect(alone.status == 78, "\(alone)")
            #expect(alone.errorOutput.contains("tls-certificate is set without tls-key"), "\(alone)")
            let missing = try ChildProcess.run(
                Paths.goedge, ["config", "--check", "--config", "/dev/null", "--tls-certificate", folder.path + "/none.crt", "--tls-key", otherKey])
            #expect(missing.status == 78, "\(missing)")
            #expect(missing.errorOutput.contains("none.crt: not a readable PEM certificate"), "\(missing)")
        }
    }
}
