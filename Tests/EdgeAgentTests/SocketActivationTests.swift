import Foundation
import Testing
import TestSupport

extension Integration {
    /// goedge started by socket activation: it serves the sockets it is
    /// given, tells its supervisor how it is doing, and exits when idle
    /// without losing a connection.
    @Suite struct SocketActivation {
        static func freePort() throws -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        /// A GET over IPv6 loopback.
        static func getV6(port: Int, _ path: String) throws -> Int {
            let result = try ChildProcess.run(
                "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://[::1]:\(port)\(path)"])
            return Int(result.output) ?? 0
        }

        @Test(.enabled(if: which("systemd-socket-activate") != nil, "needs systemd-socket-activate"))
        func servesThePassedSocketsAndExitsWhenIdle() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let port = try Self.freePort()
            let activator = try ChildProcess(
                which("systemd-socket-activate")!,
                ["-l", "127.0.0.1:\(port)", "-l", "[::1]:\(port)", Paths.goedge, "serve", "--config", "/dev/null", "--upstream", upstream.url,
                 "--cache-dir", cache.path, "--idle-timeout", "1s", "--listen", "127.0.0.1:1"])
            _ = try activator.waitForLine(containing: "Listening on [::1]", inErrorOutput: true)
            #expect(try RawHTTP.get(port: port, "/example.com/hello/@v/list").status == 200)
            #expect(try Self.getV6(port: port, "/example.com/hello/@v/v1.0.0.mod") == 200)
            #expect(activator.errorOutput.contains("socket-activated: serving the sockets systemd passed, not --listen"))
            // Nothing open, nothing in flight: gone a second later, cleanly.
            let started = ContinuousClock.now
            #expect(activator.waitForExit(timeout: .seconds(10)) == 0)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(activator.errorOutput.contains("idle for 1s: exiting"))
        }

        @Test(.enabled(if: which("systemd-socket-activate") != nil, "needs systemd-socket-activate"))
        func doesNotExitWhileADownloadIsInFlight() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let port = try Self.freePort()
            let activator = try ChildProcess(
                which("systemd-socket-activate")!,
                ["-l", "127.0.0.1:\(port)", Paths.goedge, "serve", "--config", "/dev/null", "--upstream", upstream.url, "--cache-dir", cache.path,
                 "--idle-timeout", "1s"])
            _ = try activator.waitForLine(containing: "Listening on", inErrorOutput: true)
            // The slow zip takes about four seconds, four times the idle timeout.
            let response = try RawHTTP.get(port: port, CacheBehaviour.slowZip)
            #expect(response.status == 200)
            #expect(response.body.count > 2 << 20)
            #expect(activator.status == nil, "goedge exited during the download")
            #expect(activator.waitForExit(timeout: .seconds(10)) == 0)
        }

        @Test func restartsAfterIdleExitWithoutLosingAConnectionAndReportsToItsSupervisor() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let supervisor = try ActivationSupervisor(
                arguments: ["serve", "--config", "/dev/null", "--upstream", upstream.url, "--cache-dir", cache.path, "--idle-timeout", "500ms"],
                environment: ["WATCHDOG_USEC": "200000"])
            defer { supervisor.stop() }
            let port = supervisor.ports[0]

            for cycle in 1...3 {
                let response = try RawHTTP.get(port: port, "/example.com/hello/@v/v1.\(cycle).0.info")
                #expect(response.status == 200, "cycle \(cycle)")
                #expect(eventually(timeout: .seconds(10)) { supervisor.exited().count == cycle }, "cycle \(cycle): no idle exit")
                #expect(!supervisor.isRunning)
            }
            // Requests spaced around the idle timeout, so that some arrive as an
            // instance decides to exit: none may be refused or dropped.
            var failures: [String] = []
            for index in 0..<24 {
                usleep(useconds_t(300_000 + (index % 5) * 100_000))
                do {
                    let response = try RawHTTP.get(port: port, "/example.com/hello/@v/list")
                    if response.status != 200 { failures.append("request \(index): \(response.status)") }
                } catch {
                    failures.append("request \(index): \(error)")
                }
            }
            #expect(failures.isEmpty, "\(failures)")
            #expect(eventually(timeout: .seconds(10)) { !supervisor.isRunning })

            let exits = supervisor.exited()
            #expect(exits.count >= 4)
            #expect(exits.allSatisfy { $0.status == 0 }, "\(exits.map { ($0.status, $0.log) })")
            let notes = supervisor.received()
            for instance in 1...supervisor.instancesStarted {
                let mine = notes.filter { $0.instance == instance }
                let ready = mine.first { $0.text.contains("READY=1") }
                #expect(ready != nil, "instance \(instance) never said READY=1")
                #expect(ready?.logSoFar.contains("cache loaded") == true, "READY=1 before the index was loaded")
                #expect(ready?.text.contains("STATUS=") == true)
                #expect(mine.contains { $0.text.contains("STOPPING=1") }, "instance \(instance) never said STOPPING=1")
            }
            #expect(notes.contains { $0.text == "WATCHDOG=1" })
        }

        @Test func aPassedSocketThatDoesNotListenIsRefusedClearly() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { close(fd) }
            let cache = TemporaryDirectory()
            var environment = ProcessInfo.processInfo.environment
            environment["LISTEN_FDS"] = "1"
            let child = try ChildProcess(
                "/bin/sh", ["-c", #"export LISTEN_PID=$$; exec "$0" "$@""#, Paths.goedge, "serve", "--config", "/dev/null", "--upstream", "off",
                            "--cache-dir", cache.path],
                environment: environment, passing: [fd])
            let status = child.waitForExit()
            #expect(status != nil && status != 0)
            #expect(child.errorOutput.contains("is not a listening stream socket"))
        }

        @Test func logsForTheJournalWhenJournalStreamIsSet() throws {
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: "off", cacheDirectory: cache.path, environment: ["JOURNAL_STREAM": "8:12345"])
            _ = try agent.get("/example.com/m/@v/list")
            #expect(agent.terminate() == 0)
            let lines = agent.log.split(separator: "\n")
            #expect(!lines.isEmpty)
            #expect(lines.allSatisfy { $0.hasPrefix("<5>") || $0.hasPrefix("<6>") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("<6>GET /example.com/m/@v/list 404") })
            // Without it, lines carry their own time.
            let plain = try AgentProcess(upstream: "off")
            #expect(plain.terminate() == 0)
            #expect(plain.log.split(separator: "\n").allSatisfy { $0.first?.isNumber == true })
        }

        @Test func withoutSocketActivationItDoesNotExitWhenIdle() throws {
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: "off", cacheDirectory: cache.path)
            // What it decided at start says it all; no waiting to see nothing happen.
            #expect(agent.log.contains("idle_timeout=off"))
            #expect(agent.process.isRunning)
            #expect(agent.terminate() == 0)
        }
    }
}
