import Foundation
import Testing
import TestSupport

extension Integration {
    /// The units in packaging/systemd, checked by a real systemd: they
    /// verify, the hardened service really runs socket-activated with its
    /// watchdog, exits when idle, and comes back on the next connection.
    @Suite struct SystemdUnits {
        static let units = Paths.packageRoot + "/packaging/systemd"

        /// A container with goedge and its system units installed.
        static func containerWithUnits() throws -> SystemdContainer {
            let container = try SystemdContainer()
            try container.copy(Paths.goedge, to: "/usr/bin/goedge")
            for unit in ["goedge.socket", "goedge.service"] {
                try container.copy(Self.units + "/" + unit, to: "/etc/systemd/system/" + unit)
            }
            return container
        }

        /// Makes goedge.socket listen on a free loopback port (systemd reads it at the next daemon-reload).
        static func listenOnAFreePort(_ container: SystemdContainer) throws -> Int {
            let port = try SocketActivation.freePort()
            try container.write(
                "/etc/systemd/system/goedge.socket.d/test.conf", "[Socket]\nListenStream=\nListenStream=127.0.0.1:\(port)\n")
            return port
        }

        @Test(.enabled(if: SystemdContainer.isAvailable, "needs root and systemd-nspawn (systemd-container)"))
        func theUnitsVerifyAndTheHardenedServiceRunsUnderSystemd() throws {
            let container = try Self.containerWithUnits()
            for unit in ["goedge.socket", "goedge.service", "goedge-watch.service"] {
                try container.copy(Self.units + "/user/" + unit, to: "/etc/systemd/user/" + unit)
            }

            let verify = try container.run(
                ["systemd-analyze", "verify", "--man=no", "/etc/systemd/system/goedge.socket", "/etc/systemd/system/goedge.service"])
            #expect(verify.status == 0 && verify.errorOutput.isEmpty, "\(verify)")
            let verifyUser = try container.run(
                ["systemd-analyze", "verify", "--man=no", "/etc/systemd/user/goedge.socket", "/etc/systemd/user/goedge.service",
                 "/etc/systemd/user/goedge-watch.service"])
            #expect(verifyUser.status == 0 && verifyUser.errorOutput.isEmpty, "\(verifyUser)")

            let security = try container.run(["systemd-analyze", "security", "--offline=yes", "/etc/systemd/system/goedge.service"])
            // "→ Overall exposure level for goedge.service: 1.4 OK :-)"
            let score = security.output.split(separator: "\n")
                .first { $0.contains("Overall exposure level") }
                .flatMap { $0.split(separator: " ").compactMap { Double($0) }.first }
            #expect(score != nil && score! <= 2.0, "exposure: \(security.output.suffix(400))")
            print("systemd-analyze security --offline=yes goedge.service: \(score.map { "\($0)" } ?? "?")")

            // Real ports for this run, the fixture as upstream, a short idle timeout,
            // and a watchdog short enough to notice missing pings.
            let upstream = try GoProxyFixture()
            let port = try Self.listenOnAFreePort(container)
            try container.write(
                "/etc/systemd/system/goedge.service.d/test.conf",
                "[Service]\nExecStart=\nExecStart=/usr/bin/goedge serve --upstream \(upstream.url) --idle-timeout 3s\nWatchdogSec=2s\n")
            #expect(try container.run(["systemctl", "daemon-reload"]).status == 0)
            let started = try container.run(["systemctl", "start", "goedge.socket"])
            #expect(started.status == 0, "\(started)")
            #expect(try container.properties("goedge.service", ["ActiveState"])["ActiveState"] == "inactive")

            let workspace = TemporaryDirectory()
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let go = GoCommand(proxy: "http://127.0.0.1:\(port)", home: workspace.path + "/home")
            let download = try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: workspace.path + "/app")
            #expect(download.status == 0, "\(download)")

            let running = try container.properties("goedge.service", ["ActiveState", "StatusText", "User", "InvocationID"])
            #expect(running["ActiveState"] == "active")
            #expect(running["StatusText"]?.contains("files in") == true, "\(running)")
            // Idle exit: inactive with a clean result, no watchdog kill, the socket still listening.
            #expect(eventually(timeout: .seconds(20)) {
                (try? container.properties("goedge.service", ["ActiveState"]))?["ActiveState"] == "inactive"
            })
            let stopped = try container.properties("goedge.service", ["Result", "ExecMainStatus", "NRestarts"])
            #expect(stopped["Result"] == "success", "\(stopped)")
            #expect(stopped["ExecMainStatus"] == "0")
            #expect(try container.properties("goedge.socket", ["ActiveState"])["ActiveState"] == "active")

            // The next connection starts it again, with the cache it left behind.
            let again = try RawHTTP.get(port: port, "/example.com/hello/@v/v1.3.0.zip")
            #expect(again.status == 200)
            #expect(again.header("X-Cache") == "hit")
            let second = try container.properties("goedge.service", ["ActiveState", "InvocationID"])
            #expect(second["ActiveState"] == "active")
            #expect(second["InvocationID"] != running["InvocationID"])

            // Its request lines reached the journal at info priority.
            let journal = try container.run(["journalctl", "-u", "goedge.service", "-o", "json", "--no-pager"])
            let requestLines = journal.output.split(separator: "\n").filter { $0.contains("GET /example.com/hello/@v/v1.3.0.zip") }
            #expect(!requestLines.isEmpty)
            #expect(requestLines.allSatisfy { $0.contains("\"PRIORITY\":\"6\"") }, "\(requestLines.prefix(2))")
            // With fields of their own: who fetched what.
            #expect(requestLines.contains { line in
                ["\"GOEDGE_MODULE\":\"example.com/hello\"", "\"GOEDGE_VERSION\":\"v1.3.0\"", "\"GOEDGE_KIND\":\"zip\"",
                 "\"GOEDGE_CACHE\":\"hit\"", "\"GOEDGE_CLIENT\":\"127.0.0.1:"].allSatisfy { line.contains($0) }
            }, "\(requestLines.prefix(2))")
            let byModule = try container.run(
                ["journalctl", "-u", "goedge.service", "GOEDGE_MODULE=example.com/hello", "-o", "cat", "--no-pager"])
            #expect(byModule.output.contains("GET /example.com/hello/@v/v1.3.0.zip 200"), "\(byModule)")
            #expect(try container.run(["systemctl", "stop", "goedge.socket", "goedge.service"]).status == 0)
        }

        /// The packaged service runs as a transient user that cannot read
        /// root's files: its secrets (a TLS key, the client credentials)
        /// reach it through systemd's LoadCredential=, as the README says,
        /// and the go command then fetches over HTTPS with its .netrc.
        @Test(.enabled(if: SystemdContainer.isAvailable && which("openssl") != nil, "needs root, systemd-nspawn and openssl"))
        func secretsReachTheHardenedServiceThroughLoadCredential() throws {
            let container = try Self.containerWithUnits()
            let secrets = TemporaryDirectory()
            let (certificate, key) = try makeCertificate(in: secrets)
            try container.copy(certificate, to: "/etc/goedge/tls/goedge.crt")
            try container.copy(key, to: "/etc/goedge/tls/goedge.key")
            try container.write("/etc/goedge/clients", "ci:systemd-token-9d\n", mode: 0o600)
            #expect(chmod(container.root + "/etc/goedge/tls/goedge.key", 0o600) == 0)

            let upstream = try GoProxyFixture()
            let port = try Self.listenOnAFreePort(container)
            try container.write(
                "/etc/goedge/goedge.toml",
                """
                upstream = "\(upstream.url)"
                tls-certificate = "/etc/goedge/tls/goedge.crt"
                tls-key = "/run/credentials/goedge.service/tls-key"
                client-credentials-file = "/run/credentials/goedge.service/clients"

                """)
            try container.write(
                "/etc/systemd/system/goedge.service.d/secrets.conf",
                "[Service]\nLoadCredential=tls-key:/etc/goedge/tls/goedge.key\nLoadCredential=clients:/etc/goedge/clients\n")
            #expect(try container.run(["systemctl", "daemon-reload"]).status == 0)
            let started = try container.run(["systemctl", "start", "goedge.socket"])
            #expect(started.status == 0, "\(started)")

            let workspace = TemporaryDirectory()
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            // Host and port for Go 1.24+ (GOAUTH=netrc), host alone for older go commands.
            try workspace.write(
                "netrc", "machine 127.0.0.1:\(port) login ci password systemd-token-9d\nmachine 127.0.0.1 login ci password systemd-token-9d\n")
            var go = GoCommand(proxy: "https://127.0.0.1:\(port)", home: workspace.path + "/home")
            go.extraEnvironment = ["SSL_CERT_FILE": certificate, "NETRC": workspace.path + "/netrc"]
            let download = try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: workspace.path + "/app")
            #expect(download.status == 0, "\(download)")
            let journal = try container.run(["journalctl", "-u", "goedge.service", "-o", "cat", "--no-pager"])
            #expect(journal.output.contains("urls=https://127.0.0.1:\(port)"), "\(journal.output.suffix(600))")
            #expect(journal.output.contains("v1.3.0.zip 200") && journal.output.contains(" user=ci"), "\(journal.output.suffix(600))")
            #expect(try container.run(["systemctl", "stop", "goedge.socket", "goedge.service"]).status == 0)
        }
    }
}
