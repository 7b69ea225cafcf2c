import Foundation
import Testing
import TestSupport

extension Integration {
    /// What goedge promises under faults, tried as an attacker or a careless
    /// user would: every request answered, no input crashing the agent, nothing
    /// damaged kept, no file of the user's deleted. Each case here once failed.
    @Suite struct Trust {
        /// Crafted ZIP64 fields (an offset of 2^63, an entry of 2^64−1 bytes)
        /// trapped the agent, from the upstream and through the import API.
        @Test func aCraftedZipCrashesNothing() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let fromUpstream = try agent.get("/example.com/zip64/@v/v1.0.0.zip")
            // Complete bytes that are no module zip: passed through as sent, for the go command to judge, never kept.
            #expect(fromUpstream.status == 200 && fromUpstream.header("X-Cache") == "pass", "\(fromUpstream)")
            let crafted = fromUpstream.body
            let imported = try RawHTTP.post(
                port: agent.port, "/-/api/cache/import/example.com/zip64/@v/v1.0.0.zip", body: crafted, headers: agent.controlAuthorization)
            #expect(imported.status == 400, "\(imported)")
            #expect(imported.text.contains("zip"), "\(imported.text)")
            #expect(try agent.get("/-/healthz").status == 200)
            #expect(!CacheBehaviour.storedFiles(cache).contains { $0.contains("zip64") })
            #expect(agent.terminate() == 0)
        }

        /// Numbers from outside are range-checked: a 400 or exit 78, never a trap.
        @Test func hugeNumbersAreRefusedNotTrappedOn() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path)
            let prune = try RawHTTP.post(
                port: agent.port, "/-/api/cache/prune", body: Array("{\"olderThanSeconds\": \(Int64.max - 1)}".utf8),
                headers: agent.controlAuthorization)
            #expect(prune.status == 400, "\(prune)")
            #expect(try agent.get("/-/healthz").status == 200)
            #expect(agent.terminate() == 0)

            let check = try ChildProcess.run(
                Paths.goedge, ["config", "--check", "--config", "/dev/null", "--metadata-ttl", "99999999999999999999d"])
            #expect(check.status == 78, "\(check)")
            #expect(check.errorOutput.contains("metadata-ttl"), "\(check)")

            // A long shutdown timeout (within the century allowed) is honoured, not overflowed.
            let patient = try AgentProcess(
                upstream: upstream.url, arguments: ["--shutdown-timeout", "36500d"])
            #expect(patient.terminate() == 0)
        }

        /// A body is read only for an endpoint that takes it, from a peer
        /// that may use it: a 64 MiB upload from elsewhere gets its 403 on
        /// the head alone.
        @Test func aBodyIsRefusedOnItsHead() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(
                upstream: upstream.url, arguments: ["--control-hosts", "10.9.9.9"])
            let head = "POST /-/prefetch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\n\r\n"
            // Only the head is sent: the answer must come without the body.
            let refused = try RawHTTP.exchange(port: agent.port, request: Array(head.utf8), timeout: .seconds(10))
            #expect(refused.status == 403, "\(refused)")
            #expect(refused.header("Connection") == "close")
            #expect(agent.terminate() == 0)
        }

        @Test func aSlowHeadIsCutOffAndConnectionsAreCapped() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(
                upstream: upstream.url,
                arguments: ["--request-head-timeout", "1s", "--max-connections", "3"])
            // Half a head, then nothing: answered 408 and closed, not held for days.
            let slow = try RawHTTP.exchange(port: agent.port, request: Array("GET /example.com/hello/@v/list HT".utf8), timeout: .seconds(10))
            #expect(slow.status == 408, "\(slow)")
            // Beyond the cap, a clear 503.
            var held: [Int32] = []
            defer { held.forEach { close($0) } }
            for _ in 0..<3 { held.append(try RawHTTP.connect(port: agent.port)) }
            // The held ones count once the agent's event loops have taken them, in
            // whatever order: a connection made right after may still get in.
            var refused: HTTPResponse?
            #expect(eventually {
                refused = try? RawHTTP.get(port: agent.port, "/example.com/hello/@v/list")
                return refused?.status == 503
            }, "\(String(describing: refused))")
            #expect(refused?.text.contains("max-connections") == true)
            held.forEach { close($0) }
            held = []
            #expect(eventually { (try? RawHTTP.get(port: agent.port, "/example.com/hello/@v/list").status) == 200 })
            #expect(agent.terminate() == 0)
        }

        /// The open-file limit is raised to what the hard limit allows.
        @Test func theOpenFileLimitIsRaised() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(
                upstream: upstream.url,
                wrapper: ["/usr/bin/prlimit", "--nofile=256:4096", "--"])
            let limits = try String(contentsOfFile: "/proc/\(agent.process.pid)/limits", encoding: .utf8)
            let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
            #expect(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first == "4096", "\(line)")
            #expect(agent.terminate() == 0)
        }

        /// Out of descriptors, a hit fails for the moment; its entry stays, and
        /// is served again once descriptors are back (the upstream is gone by then).
        @Test func runningOutOfDescriptorsForgetsNothing() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(
                upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--max-connections", "1000"],
                wrapper: ["/usr/bin/prlimit", "--nofile=64:64", "--"])
            let path = "/example.com/big/@v/v1.0.0.zip"
            #expect(try agent.get(path).status == 200)
            upstream.stop()
            var held: [Int32] = []
            defer { held.forEach { close($0) } }
            // Connections until the agent can take no more (it closes what it cannot serve).
            for _ in 0..<80 { if let fd = try? RawHTTP.connect(port: agent.port) { held.append(fd) } }
            _ = try? RawHTTP.get(port: agent.port, path)
            held.forEach { close($0) }
            held = []
            #expect(eventually(timeout: .seconds(20)) { (try? RawHTTP.get(port: agent.port, path))?.header("X-Cache") == "hit" })
            #expect(agent.terminate() == 0)
        }

        /// A mistaken --cache-dir loses nothing: goedge refuses a folder
        /// that holds anything and is not its own (exit 78), and so do the
        /// cache commands working on a folder.
        @Test func aMistakenCacheFolderIsRefusedAndLeftAlone() throws {
            let home = TemporaryDirectory()
            let planted = ["notes.txt", "tmp/draft.md", "data/project.go"]
            for name in planted { try home.write(name, "mine\n") }
            let serve = try ChildProcess.run(
                Paths.goedge, ["serve", "--config", "/dev/null", "--listen", "127.0.0.1:0", "--cache-dir", home.path],
                timeout: .seconds(20))
            #expect(serve.status == 78, "\(serve)")
            #expect(serve.errorOutput.contains("not a goedge cache folder"), "\(serve)")
            let list = try ChildProcess.run(
                Paths.goedge, ["cache", "ls", "--config", "/dev/null", "--agent", "http://127.0.0.1:9", "--cache-dir", home.path])
            #expect(list.status != 0, "\(list)")
            #expect((list.output + list.errorOutput).contains("not a goedge cache folder"), "\(list)")
            for name in planted { #expect(home.read(name) == "mine\n", "\(name)") }
            #expect(!FileManager.default.fileExists(atPath: home.path + "/goedge.lock"))
        }

        /// A host name that only looks local is judged by what it resolves to.
        @Test func aListenAddressIsJudgedByWhatItResolvesTo() throws {
            let cache = TemporaryDirectory()
            let result = try ChildProcess.run(
                Paths.goedge, ["serve", "--config", "/dev/null", "--listen", "127.not-loopback.invalid:7", "--cache-dir", cache.path],
                timeout: .seconds(20))
            #expect(result.status == 78, "\(result)")
            #expect(result.errorOutput.contains("allow-remote"), "\(result)")
        }

        /// Credentials never show, and ones that cannot work are refused at once.
        @Test func upstreamCredentialsAreRedactedAndCheckedEverywhere() throws {
            let shown = try ChildProcess.run(
                Paths.goedge, ["config", "--config", "/dev/null", "--upstream", "https://ci:s3cret@proxy.example.com"])
            #expect(shown.status == 0, "\(shown)")
            #expect(!shown.output.contains("s3cret") && shown.output.contains("ci:xxxxx@proxy.example.com"), "\(shown.output)")
            for separator in [",", "|"] {
                let list = try ChildProcess.run(
                    Paths.goedge,
                    ["config", "--config", "/dev/null", "--upstream", "https://a.example\(separator)https://alice:s3cret@b.example"])
                #expect(list.status == 0, "\(list)")
                #expect(!list.output.contains("s3cret") && list.output.contains("alice:xxxxx@b.example"), "\(list.output)")
            }
            for (upstream, hint) in [("https://ci:pa/ss@proxy.example.com", "%2F"), ("https://ci:p@ss@proxy.example.com", "%40")] {
                let refused = try ChildProcess.run(Paths.goedge, ["config", "--check", "--config", "/dev/null", "--upstream", upstream])
                #expect(refused.status == 78, "\(refused)")
                #expect(refused.errorOutput.contains(hint), "\(refused)")
                #expect(!refused.errorOutput.contains("ss@") && !refused.errorOutput.contains("pa/ss"), "\(refused)")
            }
        }

        /// A full disk: the file still reaches the client (relayed, unstored),
        /// the log says why once, readiness says the cache cannot store, and
        /// nothing blames the upstream.
        @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs"))
        func aFullDiskPassesFilesThroughAndSaysSo() throws {
            let mount = try SmallDisk()
            defer { withExtendedLifetime(mount) {} }  // mounted to the end
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: mount.path + "/cache")
            let big = try agent.get(CacheBehaviour.bigZip)
            let direct = try RawHTTP.get(url: upstream.url + CacheBehaviour.bigZip)
            #expect(big.status == 200 && big.body == direct.body, "\(big.status) \(big.body.count) bytes")
            #expect(big.header("X-Cache") == "pass")
            #expect(try agent.get("/-/readyz").status == 503)
            #expect(agent.log.contains("disk is full"), "\(agent.log)")
            #expect(!agent.log.contains("failed for"), "\(agent.log)")
            #expect(agent.terminate() == 0)
        }

        /// The disk fills while a file of unannounced size is being written:
        /// the client still gets the whole file (fetched again and relayed),
        /// and nothing is kept of it.
        @Test(.enabled(if: getuid() == 0, "mounts a small tmpfs"))
        func aDiskFillingMidDownloadStillAnswersWithTheFile() throws {
            let mount = try SmallDisk()
            defer { withExtendedLifetime(mount) {} }  // mounted to the end
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: mount.path + "/cache")
            let path = "/example.com/unsized/@v/v1.0.0.zip"
            let direct = try RawHTTP.get(url: upstream.url + path)
            #expect(direct.header("Content-Length") == nil && direct.body.count > 2 << 20)
            let relayed = try agent.get(path)
            #expect(relayed.status == 200 && relayed.body == direct.body, "\(relayed.status) \(relayed.body.count) bytes")
            #expect(relayed.header("X-Cache") == "pass")
            #expect(!agent.log.contains("failed for"), "\(agent.log)")
            let kept = FileManager.default.subpaths(atPath: mount.path + "/cache/data") ?? []
            #expect(!kept.contains { $0.contains("unsized") }, "\(kept)")
            #expect((try? FileManager.default.contentsOfDirectory(atPath: mount.path + "/cache/tmp")) == [], "nothing half-written stays")
            #expect(agent.terminate() == 0)
        }
    }
}

/// A 1 MiB tmpfs, mounted for as long as the value lives: a disk that fills.
private final class SmallDisk {
    private let folder = TemporaryDirectory()
    var path: String { folder.path }

    init() throws {
        let mounted = try ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", folder.path])
        guard mounted.status == 0 else { throw TestFailure("cannot mount a tmpfs: \(mounted)") }
    }

    deinit { _ = try? ChildProcess.run("/bin/umount", ["-l", folder.path]) }
}
