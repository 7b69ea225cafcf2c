import Foundation
import ProxyTestSupport
import Testing
import TestSupport

extension Integration {
    /// A fleet of runners sharing one bucket of a real object store (Ceph's
    /// RADOS Gateway, started once for these tests by scripts/ceph-cluster),
    /// with the real go command. One at a time: one test kills the gateway.
    @Suite(.serialized, .enabled(if: CephCluster.isAvailable, "needs radosgw, ceph-mon and ceph-osd"))
    struct Fleet {
        /// An agent of the fleet: its own empty cache, the bucket, the fixture's checksum database.
        static func agent(
            _ upstream: GoProxyFixture, cluster: CephCluster, bucket: String, folder: TemporaryDirectory, mode: String = "read-write",
            secret: String? = nil
        ) throws -> AgentProcess {
            try AgentProcess(
                upstream: upstream.url,
                arguments: [
                    "--no-read-ahead", "--checksum-database", upstream.sumdbKey, "--shared-store", "s3://\(bucket)/fleet",
                    "--shared-store-endpoint", cluster.endpoint, "--shared-store-mode", mode,
                    "--shared-store-credentials-file", try cluster.credentialsFile(in: folder, secret: secret),
                ])
        }

        static func status(_ agent: AgentProcess) throws -> [String: Any] {
            let json = try JSONSerialization.jsonObject(with: Data(try agent.get("/-/api/status").body)) as? [String: Any]
            return json?["sharedStore"] as? [String: Any] ?? [:]
        }

        /// Waits until the agent's uploads are done (none queued).
        static func uploadsSettle(_ agent: AgentProcess) -> Bool {
            eventually(timeout: .seconds(30)) { (try? status(agent)["uploadsQueued"] as? Int) == 0 }
        }

        /// What the fixture was asked, module files only (the checksum database's answers are per host).
        static func moduleRequests(_ upstream: GoProxyFixture) throws -> [String: Int] {
            try upstream.requestCounts().filter { key, _ in key.contains("/@v/") || key.hasSuffix("/@latest") }
        }

        @Test func aSecondRunnerGetsEverythingFromTheFleetsBucket() throws {
            let cluster = try CephCluster.shared()
            let bucket = try cluster.makeBucket()
            let upstream = try GoProxyFixture()
            let workspace = try Prefetch.workspace(upstream: upstream, tidy: true)
            let folder = TemporaryDirectory()

            let first = try Self.agent(upstream, cluster: cluster, bucket: bucket, folder: folder)
            var go1 = GoCommand(proxy: first.url, home: folder.path + "/home1")
            go1.extraEnvironment["GOSUMDB"] = upstream.sumdbKey
            let downloaded = try go1.run(["mod", "download", "all"], in: workspace.path)
            #expect(downloaded.status == 0, "\(downloaded)")
            #expect(Self.uploadsSettle(first))
            let uploaded = try Self.status(first)
            #expect((uploaded["uploadsStored"] as? Int ?? 0) >= 9, "\(uploaded)")
            #expect(try cluster.keys(in: bucket).contains("fleet/example.com/hello/@v/v1.3.0.zip"))
            #expect(first.terminate() == 0)

            try upstream.resetCounts()
            let second = try Self.agent(upstream, cluster: cluster, bucket: bucket, folder: folder)
            var go2 = GoCommand(proxy: second.url, home: folder.path + "/home2")
            go2.extraEnvironment["GOSUMDB"] = upstream.sumdbKey
            let again = try go2.run(["mod", "download", "all"], in: workspace.path)
            #expect(again.status == 0, "\(again)")
            // Not one module file crossed to the upstream: the bucket had them all.
            let counts = try upstream.requestCounts()
            #expect(try Self.moduleRequests(upstream).filter { !$0.key.hasSuffix("/list") }.isEmpty, "\(counts)")
            #expect(go1.downloadedFiles() == go2.downloadedFiles())
            let status = try Self.status(second)
            #expect((status["hits"] as? Int ?? 0) >= 9 && status["rejected"] as? Int == 0, "\(status)")
            // The second runner uploads nothing: the fleet has it.
            #expect(status["uploadsStored"] as? Int == 0, "\(status)")
            #expect(second.terminate() == 0)
        }

        /// Anyone who can write the bucket can put anything there: a zip whose
        /// content is not what the checksum database records, a cut go.mod.
        /// Neither is ever served; the go command gets the upstream's bytes,
        /// and the metric and the log say what was refused.
        @Test func aPoisonedObjectIsNeverServed() throws {
            let cluster = try CephCluster.shared()
            let bucket = try cluster.makeBucket()
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            // A well-formed module zip of example.com/hello v1.3.0, with other code in it.
            let poisoned = try ZipMaker.module(
                "example.com/hello", "v1.3.0", files: [("go.mod", "module example.com/hello\n"), ("hello.go", "package hello\n\nfunc Backdoor() {}\n")])
            try cluster.put(poisoned, bucket: bucket, key: "fleet/example.com/hello/@v/v1.3.0.zip")
            try cluster.put(Array("module exam".utf8), bucket: bucket, key: "fleet/example.com/hello/@v/v1.3.0.mod")
            let agent = try Self.agent(upstream, cluster: cluster, bucket: bucket, folder: folder, mode: "read")
            try folder.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            var go = GoCommand(proxy: agent.url, home: folder.path + "/home")
            go.extraEnvironment["GOSUMDB"] = upstream.sumdbKey
            let downloaded = try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: folder.path + "/app")
            #expect(downloaded.status == 0, "\(downloaded)")
            var direct = GoCommand(proxy: upstream.url, home: folder.path + "/direct")
            direct.extraEnvironment["GOSUMDB"] = upstream.sumdbKey
            #expect(try direct.run(["mod", "download", "example.com/hello@v1.3.0"], in: folder.path + "/app").status == 0)
            #expect(go.downloadedFiles() == direct.downloadedFiles())
            #expect(try Self.status(agent)["rejected"] as? Int == 2)
            let metrics = String(decoding: try agent.get("/-/metrics").body, as: UTF8.self)
            #expect(metrics.contains("goedge_shared_store_verification_failures_total 2"), "\(metrics)")
            #expect(agent.log.contains("refused a file from the shared store"), "\(agent.log)")
            #expect(agent.log.contains("is not the checksum database's"), "\(agent.log)")
            #expect(agent.terminate() == 0)
        }

        /// Read-only runners (jobs of forks) read the fleet's bucket and never
        /// write it; a wrong secret is one clear error, and builds go on from
        /// the upstream.
        @Test func readOnlyRunnersWriteNothingAndAWrongSecretIsOneClearError() throws {
            let cluster = try CephCluster.shared()
            let bucket = try cluster.makeBucket()
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            try folder.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let reader = try Self.agent(upstream, cluster: cluster, bucket: bucket, folder: folder, mode: "read")
            var go = GoCommand(proxy: reader.url, home: folder.path + "/home")
            go.extraEnvironment["GOSUMDB"] = upstream.sumdbKey
            #expect(try go.run(["mod", "download", "example.com/hello@v1.3.0", "example.com/big@v1.0.0"], in: folder.path + "/app").status == 0)
            #expect(try cluster.keys(in: bucket).isEmpty)
            #expect(reader.terminate() == 0)

            let wrong = try Self.agent(upstream, cluster: cluster, bucket: bucket, folder: folder, secret: "not-the-secret")
            var go2 = GoCommand(proxy: wrong.url, home: folder.path + "/home2")
            go2.extraEnvironment["GOSUMDB"] = upstream.sumdbKey
            #expect(try go2.run(["mod", "download", "example.com/hello@v1.3.0", "example.com/dep@v1.0.1"], in: folder.path + "/app").status == 0)
            let status = try ChildProcess.run(Paths.goedge, ["status", "--config", "/dev/null", "--agent", wrong.url])
            #expect(status.output.contains("FAILING") && status.output.contains("refused goedge's credentials"), "\(status)")
            #expect(wrong.log.components(separatedBy: "shared store failing").count == 2, "\(wrong.log)")
            #expect(!wrong.log.contains("not-the-secret") && !status.output.contains("not-the-secret"))
            #expect(try cluster.keys(in: bucket).isEmpty)
            #expect(wrong.terminate() == 0)
        }

        /// The gateway killed in the middle of a run: every go command still
        /// succeeds, goedge status says the store is failing, and once the
        /// gateway is back goedge uses it again.
        @Test func aGatewayKilledMidRunCostsNoBuild() throws {
            let cluster = try CephCluster.shared()
            let bucket = try cluster.makeBucket()
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            try folder.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let agent = try Self.agent(upstream, cluster: cluster, bucket: bucket, folder: folder)
            var go = GoCommand(proxy: agent.url, home: folder.path + "/home1")
            go.extraEnvironment["GOSUMDB"] = upstream.sumdbKey
            #expect(try go.run(["mod", "download", "example.com/hello@v1.3.0"], in: folder.path + "/app").status == 0)
            cluster.killGateway()
            for (index, module) in ["example.com/dep@v1.0.1", "example.com/quote@v1.5.2", "example.com/big@v1.0.0", "example.com/filler0@v1.0.0"].enumerated() {
                var during = GoCommand(proxy: agent.url, home: folder.path + "/during\(index)")
                during.extraEnvironment["GOSUMDB"] = upstream.sumdbKey
                let downloaded = try during.run(["mod", "download", module], in: folder.path + "/app")
                #expect(downloaded.status == 0, "\(downloaded)")
            }
            let failing = try ChildProcess.run(Paths.goedge, ["status", "--config", "/dev/null", "--agent", agent.url])
            #expect(failing.output.contains("shared:") && failing.output.contains("FAILING"), "\(failing)")
            #expect(agent.log.contains("shared store failing"))
            let readiness = try agent.get("/-/readyz")
            #expect(readiness.status == 200 && readiness.text.contains("\"sharedStoreAnswering\":false"), "\(readiness)")

            try cluster.restartGateway()
            // Asked again after its pause: a probe, then in use.
            var asked = 0
            #expect(eventually(timeout: .seconds(60)) {
                // Misses (each a new path), so that the store is asked when its pause is over.
                asked += 1
                _ = try? agent.get("/example.com/absent\(asked)/@v/v1.0.0.info")
                return (try? Self.status(agent)["available"] as? Bool) == true
            })
            #expect(agent.log.contains("shared store answering again"))
            #expect(agent.terminate() == 0)
        }
    }
}
