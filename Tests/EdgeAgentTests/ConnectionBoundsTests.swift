import Foundation
import Testing
import TestSupport

extension Integration {
    /// Whatever a client does with its connection, what the agent holds for
    /// it is bounded in memory and in time. Each case here once held
    /// without bound.
    @Suite struct ConnectionBounds {
        /// A socket whose receive buffer is small, so that a client that never
        /// reads fills it soon; sends give up after `sendTimeout`.
        private static func stubbornClient(port: Int, sendTimeout: Int = 1) throws -> Int32 {
            let fd = try RawHTTP.connect(port: port)
            var small: Int32 = 4096
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            var seconds = timeval(tv_sec: sendTimeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }

        /// Sends `bytes` over and over until the peer stops taking them, `limit`
        /// bytes went, or 20 seconds passed; returns how many went.
        private static func sendUntilRefused(_ fd: Int32, _ bytes: [UInt8], limit: Int) -> Int {
            var sent = 0
            let deadline = ContinuousClock.now + .seconds(20)
            while sent < limit && ContinuousClock.now < deadline {
                let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { break }
                sent += count
            }
            return sent
        }

        /// Pipelined requests whose answers are never read (a cached zip of
        /// 2 MiB, then .mod files; or 401s, which client credentials give
        /// anyone): the agent stops reading once it cannot write, so it
        /// holds a bounded amount, not everything the client sends.
        @Test func aClientThatNeverReadsItsAnswersGrowsNothing() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            try folder.write("clients", "ci:token\n")
            for arguments in [[], ["--client-credentials-file", folder.path + "/clients"]] {
                let agent = try AgentProcess(upstream: upstream.url, arguments: arguments)
                if arguments.isEmpty {
                    #expect(try agent.get("/example.com/big/@v/v1.0.0.zip").status == 200)
                    #expect(try agent.get("/example.com/hello/@v/v1.3.0.mod").status == 200)
                }
                let before = ProcessFacts.residentBytes(agent.process.pid)
                let fd = try Self.stubbornClient(port: agent.port)
                let first = Array("GET /example.com/big/@v/v1.0.0.zip HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
                _ = Self.sendUntilRefused(fd, first, limit: first.count)
                let request = Array("GET /example.com/hello/@v/v1.3.0.mod HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
                let pipelined = Array(repeating: request, count: 1000).flatMap { $0 }
                let sent = Self.sendUntilRefused(fd, pipelined, limit: 256 << 20)
                let after = ProcessFacts.residentBytes(agent.process.pid)
                // Before, reads went on: the agent took all of it and answered into memory.
                #expect(sent < 64 << 20, "the agent took \(sent >> 20) MiB of requests it could not answer")
                #expect(after - before < 24 << 20, "RSS grew from \(before >> 20) to \(after >> 20) MiB")
                #expect(try agent.get("/-/healthz").status == 200)
                close(fd)
                #expect(agent.terminate() == 0)
            }
        }

        /// A client that stops reading a `Connection: close` (or HTTP/1.0)
        /// answer loses its connection within the head timeout, and with it
        /// the cached file's descriptor and pin.
        @Test func aClientThatStopsReadingLosesItsConnectionAndTheFile() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--request-head-timeout", "2s"])
            // Larger than what the kernel's socket buffers take on loopback (4 MiB at most).
            #expect(try agent.get("/example.com/huge/@v/v1.0.0.zip").status == 200)
            var clients: [Int32] = []
            defer { clients.forEach { close($0) } }
            for index in 0..<10 {
                let fd = try Self.stubbornClient(port: agent.port)
                let version = index.isMultiple(of: 2) ? "HTTP/1.0" : "HTTP/1.1"
                let request = Array("GET /example.com/huge/@v/v1.0.0.zip \(version)\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
                #expect(Self.sendUntilRefused(fd, request, limit: request.count) == request.count)
                clients.append(fd)
            }
            let cachedFiles = { ProcessFacts.openFiles(agent.process.pid).filter { $0.hasPrefix(cache.path + "/data/") } }
            #expect(eventually(timeout: .seconds(2)) { cachedFiles().count >= 10 }, "\(cachedFiles())")
            #expect(eventually(timeout: .seconds(15)) { cachedFiles().isEmpty }, "still open: \(cachedFiles())")
            #expect(agent.log.contains("took none of its answer"), "\(agent.log)")
            // The cache entry is not held: it can be removed.
            let removed = try RawHTTP.post(
                port: agent.port, "/-/api/cache/remove", body: Array(#"{"module":"example.com/huge"}"#.utf8), headers: agent.controlAuthorization)
            #expect(removed.status == 200 && removed.text.contains("example.com/huge"), "\(removed)")
            #expect(agent.terminate() == 0)
        }

        /// The same over TLS, where a cached file is read piece by piece as
        /// the client takes it: a client that takes nothing more loses its
        /// connection within the head timeout, and the file is let go.
        @Test(.enabled(if: which("openssl") != nil && which("curl") != nil, "needs openssl and curl"))
        func aTLSClientThatStopsReadingLosesItsConnectionAndTheFile() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let folder = TemporaryDirectory()
            let (certificate, key) = try makeCertificate(in: folder)
            let agent = try AgentProcess(
                upstream: upstream.url, cacheDirectory: cache.path,
                arguments: ["--tls-certificate", certificate, "--tls-key", key, "--request-head-timeout", "2s"])
            let fetched = try ChildProcess.run(
                which("curl")!, ["-sS", "--cacert", certificate, "-o", "/dev/null", "-w", "%{http_code}", agent.url + "/example.com/huge/@v/v1.0.0.zip"])
            #expect(fetched.output == "200", "\(fetched)")
            // A client with a small receive buffer that asks for the 16 MiB zip and reads nothing of it.
            let script = """
                import socket, ssl, sys, time
                raw = socket.socket()
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                raw.connect(("127.0.0.1", int(sys.argv[1])))
                tls = ssl.create_default_context(cafile=sys.argv[2]).wrap_socket(raw, server_hostname="127.0.0.1")
                tls.sendall(b"GET /example.com/huge/@v/v1.0.0.zip HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                time.sleep(60)
                """
            let client = try ChildProcess(which("python3")!, ["-c", script, String(agent.port), certificate])
            defer { client.kill() }
            let cachedFiles = { ProcessFacts.openFiles(agent.process.pid).filter { $0.hasPrefix(cache.path + "/data/") } }
            #expect(eventually(timeout: .seconds(5)) { !cachedFiles().isEmpty }, "the zip was never opened for the client")
            #expect(eventually(timeout: .seconds(15)) { cachedFiles().isEmpty }, "still open: \(cachedFiles())")
            #expect(agent.log.contains("took none of its answer"), "\(agent.log)")
            #expect(agent.terminate() == 0)
        }

        /// With TLS, a peer outside client-hosts that never starts its
        /// handshake was held forever, and such peers could fill
        /// max-connections. Now each is closed within the head timeout, and
        /// refused connections do not count against served ones.
        @Test(.enabled(if: which("openssl") != nil, "needs openssl"))
        func silentRefusedPeersAreClosedAndDoNotCrowdOutClients() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            let (certificate, key) = try makeCertificate(in: folder)
            let agent = try AgentProcess(
                upstream: upstream.url,
                arguments: [
                    "--tls-certificate", certificate, "--tls-key", key, "--client-hosts", "127.0.0.1", "--control-hosts", "127.0.0.9",
                    "--max-connections", "3", "--request-head-timeout", "2s",
                ])
            var silent: [Int32] = []
            defer { silent.forEach { close($0) } }
            for _ in 0..<6 { silent.append(try RawHTTP.connect(port: agent.port, from: "127.0.0.2", timeout: .seconds(10))) }
            // An allowed client is still served.
            let served = try ChildProcess.run(
                which("curl")!, ["-sS", "--cacert", certificate, "-o", "/dev/null", "-w", "%{http_code}", agent.url + "/example.com/hello/@v/list"])
            #expect(served.output == "200", "\(served)")
            // Each silent peer is let go: its read ends (EOF or reset) within the head timeout.
            for fd in silent {
                var byte: UInt8 = 0
                let started = ContinuousClock.now
                let count = recv(fd, &byte, 1, 0)
                #expect(count <= 0 && ContinuousClock.now - started < .seconds(8), "read \(count)")
            }
            #expect(agent.terminate() == 0)
        }
    }
}
