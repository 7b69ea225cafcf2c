import Foundation
import Testing
import TestSupport

extension Integration {
    /// `/-/metrics`, `/-/healthz`, `/-/readyz`, and who may use the control API.
    @Suite struct Metrics {
        /// The samples of a Prometheus text exposition, by name and labels
        /// (`goedge_requests_total{kind="zip",result="miss"}`), after checking
        /// that every line is in the format.
        static func samples(_ agent: AgentProcess) throws -> [String: Double] {
            let response = try agent.get("/-/metrics")
            #expect(response.status == 200)
            #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(decoding: response.body, as: UTF8.self)
            let name = "[a-zA-Z_:][a-zA-Z0-9_:]*"
            let labels = "\\{(\(name)=\"(\\\\.|[^\"\\\\])*\"(,\(name)=\"(\\\\.|[^\"\\\\])*\")*)?\\}"
            let sample = try Regex("^(\(name)(\(labels))?) (-?[0-9.e+-]+|NaN|\\+Inf|-Inf)$")
            let comment = try Regex("^# (HELP \(name) .*|TYPE \(name) (counter|gauge|histogram|summary|untyped))$")
            var samples: [String: Double] = [:]
            var typed: Set<String> = []
            for line in text.split(separator: "\n") {
                if line.hasPrefix("#") {
                    #expect(line.wholeMatch(of: comment) != nil, "not a comment of the text format: \(line)")
                    if line.hasPrefix("# TYPE ") {
                        let family = String(line.split(separator: " ")[2])
                        #expect(!typed.contains(family), "\(family) typed twice")
                        typed.insert(family)
                    }
                    continue
                }
                guard let match = line.wholeMatch(of: sample) else {
                    Issue.record("not a sample of the text format: \(line)")
                    continue
                }
                let key = String(match.output[1].substring ?? "")
                samples[key] = Double(String(line.split(separator: " ").last!))
            }
            return samples
        }

        static func value(_ samples: [String: Double], _ key: String) -> Double {
            samples[key] ?? 0
        }

        /// docs/operating.md lists every metric the agent exposes, with its labels.
        @Test func theReadmeNamesEveryMetricAndItsLabels() throws {
            let agent = try AgentProcess(upstream: "http://127.0.0.1:9")
            #expect(try agent.get("/example.com/hello/@v/list").status == 502)
            let readme = try String(contentsOfFile: Paths.packageRoot + "/docs/operating.md", encoding: .utf8)
            let samples = try Self.samples(agent)
            var families: [String: Set<String>] = [:]
            for key in samples.keys {
                var name = String(key.prefix { $0 != "{" })
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && name.hasPrefix("goedge_upstream_request_duration") {
                    name.removeLast(suffix.count)
                }
                let labels = key.drop { $0 != "{" }.dropFirst().dropLast().split(separator: ",").map { String($0.prefix { $0 != "=" }) }
                families[name, default: []].formUnion(labels.filter { $0 != "le" })
            }
            #expect(families.count >= 20, "\(families.keys.sorted())")
            for (name, labels) in families {
                let written = labels.isEmpty ? "`\(name)`" : "`\(name){"
                #expect(readme.contains(written), "README lacks \(written)")
                if !labels.isEmpty {
                    let listed = readme.range(of: written).map { readme[$0.upperBound...].prefix { $0 != "}" } } ?? ""
                    let names = Set(listed.split(separator: ",").map { String($0.prefix { $0 != "=" }) })
                    #expect(names == labels, "\(name): README says \(names), the agent has \(labels)")
                }
            }
            #expect(agent.terminate() == 0)
        }

        @Test func countersFollowWhatTheGoCommandDoes() throws {
            let upstream = try GoProxyFixture()
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(
                upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--metadata-ttl", "0", "--max-cache-size", "256KiB"])
            let workspace = TemporaryDirectory()
            try workspace.write("app/go.mod", "module example.com/app\n\ngo 1.17\n")
            let zipMiss = "goedge_requests_total{kind=\"zip\",result=\"miss\"}"
            let zipHit = "goedge_requests_total{kind=\"zip\",result=\"hit\"}"

            // A miss, then a hit.
            let first = GoCommand(proxy: agent.url, home: workspace.path + "/first")
            #expect(try first.run(["mod", "download", "example.com/quote@v1.5.2"], in: workspace.path + "/app").status == 0)
            let afterMiss = try Self.samples(agent)
            #expect(Self.value(afterMiss, zipMiss) + Self.value(afterMiss, zipHit) >= 1)
            let second = GoCommand(proxy: agent.url, home: workspace.path + "/second")
            #expect(try second.run(["mod", "download", "example.com/quote@v1.5.2"], in: workspace.path + "/app").status == 0)
            let afterHit = try Self.samples(agent)
            #expect(Self.value(afterHit, zipHit) == Self.value(afterMiss, zipHit) + 1)
            #expect(Self.value(afterHit, "goedge_served_bytes_total{source=\"cache\"}") > Self.value(afterMiss, "goedge_served_bytes_total{source=\"cache\"}"))
            #expect(Self.value(afterHit, "goedge_upstream_request_duration_seconds_count{upstream=\"\(upstream.url)\"}") >= 1)
            #expect(Self.value(afterHit, "goedge_upstream_requests_total{upstream=\"\(upstream.url)\",status=\"200\"}") >= 1)
            #expect(Self.value(afterHit, "goedge_cache_limit_bytes") == Double(256 * 1024))
            #expect(Self.value(afterHit, "goedge_cache_entries") >= 3)
            #expect(Self.value(afterHit, "process_resident_memory_bytes") > Double(1 << 20))
            #expect(Self.value(afterHit, "process_open_fds") > 3)

            // Evictions, under a limit the fillers overflow.
            for index in 0..<6 {
                let go = GoCommand(proxy: agent.url, home: workspace.path + "/filler\(index)")
                #expect(try go.run(["mod", "download", "example.com/filler\(index)@v1.0.0"], in: workspace.path + "/app").status == 0)
            }
            let afterFillers = try Self.samples(agent)
            #expect(Self.value(afterFillers, "goedge_cache_evictions_total") >= 1)
            #expect(Self.value(afterFillers, "goedge_cache_size_bytes") <= Double(256 * 1024))

            // A stale version list when the upstream is gone.
            #expect(try agent.get("/example.com/hello/@v/list").status == 200)
            upstream.stop()
            #expect(try agent.get("/example.com/hello/@v/list").header("X-Cache") == "stale")
            let afterStale = try Self.samples(agent)
            #expect(Self.value(afterStale, "goedge_requests_total{kind=\"list\",result=\"stale\"}") == 1)
            #expect(Self.value(afterStale, "goedge_upstream_requests_total{upstream=\"\(upstream.url)\",status=\"error\"}") >= 1)
            #expect(agent.terminate() == 0)
        }

        @Test func concurrentMissesCountAsJoinsAndPrefetchesAreCounted() throws {
            let upstream = try GoProxyFixture(delay: .milliseconds(300))
            let cache = TemporaryDirectory()
            let agent = try AgentProcess(upstream: upstream.url, cacheDirectory: cache.path, arguments: ["--no-read-ahead"])
            let port = agent.port
            let answers = try concurrently(4) { _ in try RawHTTP.get(port: port, "/example.com/quote/@v/v1.5.2.zip") }
            #expect(answers.allSatisfy { $0.status == 200 })
            #expect(Self.value(try Self.samples(agent), "goedge_singleflight_joins_total") == 3)

            let workspace = try Prefetch.workspace(upstream: upstream, tidy: true)
            #expect(try Prefetch.prefetch(agent, [workspace.path]).status == 0)
            let samples = try Self.samples(agent)
            #expect(Self.value(samples, "goedge_prefetch_jobs_total") == 1)
            #expect(Self.value(samples, "goedge_prefetch_modules_total") >= 3)
            #expect(agent.terminate() == 0)
        }

        @Test func healthAndReadiness() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url)
            let health = try agent.get("/-/healthz")
            #expect(health.status == 200 && health.header("Content-Type") == "application/json")
            #expect(String(decoding: health.body, as: UTF8.self).contains("\"status\":\"ok\""))
            let ready = try agent.get("/-/readyz")
            #expect(ready.status == 200, "\(ready)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(ready.body)) as? [String: Any])
            #expect(json["ready"] as? Bool == true && json["indexLoaded"] as? Bool == true && json["cacheWritable"] as? Bool == true)

            // The only upstream stops answering: not ready until it answers again.
            upstream.stop()
            #expect(try agent.get("/example.com/hello/@v/list").status == 502)
            let failing = try agent.get("/-/readyz")
            #expect(failing.status == 503)
            #expect(String(decoding: failing.body, as: UTF8.self).contains("\"upstreamAnswering\":false"))
            #expect(agent.terminate() == 0)
        }

        /// The control API and prefetch answer only the hosts control-hosts
        /// lists; metrics and health answer anyone who can connect.
        @Test func theControlAPIAnswersOnlyAllowedHosts() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(
                upstream: upstream.url, arguments: ["--control-hosts", "192.0.2.0/24"])
            #expect(try agent.get("/-/api/status").status == 403)
            #expect(try RawHTTP.post(port: agent.port, "/-/api/cache/list", body: Array("{}".utf8)).status == 403)
            #expect(try RawHTTP.post(port: agent.port, "/-/prefetch", body: Array("{}".utf8)).status == 403)
            #expect(try agent.get("/-/metrics").status == 200)
            #expect(try agent.get("/-/healthz").status == 200)
            let status = try ChildProcess.run(Paths.goedge, ["status", "--config", "/dev/null", "--agent", agent.url])
            #expect(status.status == 1 && status.errorOutput.contains("403"), "\(status)")
            #expect(agent.terminate() == 0)

            let allowed = try AgentProcess(upstream: upstream.url)
            #expect(try allowed.get("/-/api/status").status == 200)
            #expect(allowed.terminate() == 0)
        }
    }
}
