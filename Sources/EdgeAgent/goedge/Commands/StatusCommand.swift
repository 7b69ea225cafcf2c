import ArgumentParser
import Foundation
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import SharedStore
import GoedgeConfiguration

/// `goedge status`: whether an agent runs, and how its cache is doing.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether an agent is running and how its cache is doing.",
        discussion: """
            Shows where the agent listens, its uptime, the cache's size against its limit, entries, \
            the hit ratio, how each upstream has been answering, the last prefetches and the folders \
            goedge watch watches. With no agent running (under socket activation, an idle agent has \
            exited), shows the cache folder and exits 3.
            """
    )

    @OptionGroup var options: CacheOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let layers = try options.layers()
        let client = ClientOptions.agentClient(layers)
        defer { client.shutdown() }
        let status: AgentStatusReport
        do {
            status = try await client.status()
        } catch let failure where failure.unreachable {
            try notRunning(client, layers)
            throw ExitCode(3)
        } catch {
            throw CacheCommandRun.fail("\(error)")
        }
        if json {
            print(try Self.encode(status))
        } else {
            print(Self.describe(status, agent: "\(client.agent)"))
        }
    }

    private func notRunning(_ client: AgentClient, _ layers: ConfigurationLayers) throws {
        let environment = ProcessInfo.processInfo.environment
        let folder =
            layers.path(Settings.cacheDir, home: environment["HOME"] ?? "/")
            ?? AgentConfiguration.defaultCacheDirectory(environment: environment)
        struct Stopped: Encodable {
            var running = false
            var agent: String
            var cacheDirectory: String
            var modules: Int?
            var sizeBytes: Int64?
        }
        var stopped = Stopped(agent: "\(client.agent)", cacheDirectory: folder)
        // The folder's own facts, if nobody holds it.
        if let administration = try? CacheTarget.openFolder(folder, layers: layers) {
            let statistics = administration.store.statistics()
            stopped.modules = statistics.groups
            stopped.sizeBytes = statistics.diskUsage
        }
        if json {
            print(try Self.encode(stopped))
            return
        }
        print("goedge: no agent answers at \(client.agent)")
        if let modules = stopped.modules, let size = stopped.sizeBytes {
            print("cache:  \(folder): \(ByteSize.format(size)), \(modules) entries")
        } else {
            print("cache:  \(folder) (not readable here, or does not exist)")
        }
    }

    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func describe(_ status: AgentStatusReport, agent: String) -> String {
        var lines: [String] = []
        let activation = status.socketActivated ? ", socket-activated" : ""
        lines.append("agent:     running at \(agent) (goedge \(status.version), pid \(status.pid)\(activation)), up \(DurationText.format(.seconds(status.uptimeSeconds)))")
        let cache = status.cache
        let share = cache.limitBytes > 0 ? Int((Double(cache.sizeBytes) / Double(cache.limitBytes) * 100).rounded()) : 0
        lines.append(
            "cache:     \(cache.directory): \(ByteSize.format(cache.sizeBytes)) of \(ByteSize.format(cache.limitBytes)) (\(share)%), "
                + "\(cache.modules) entries, \(cache.files) files, \(cache.evictions) evicted" + (cache.indexLoaded ? "" : ", index loading"))
        let ratio =
            status.requests.hitRatio.map { "\(Int(($0 * 100).rounded()))% from cache" }
            ?? (status.requests.total == 0 ? "no module requests yet" : "none served from cache or upstream yet")
        let failed = status.requests.failed.map { $0 > 0 ? ", \($0) failed" : "" } ?? ""
        lines.append(
            "requests:  \(status.requests.total) answered\(failed), \(ratio); read ahead \(status.requests.readAheadFiles) files, "
                + "\(status.requests.readAheadUsed) of them used")
        for upstream in status.upstreams {
            var text = "upstream:  \(upstream.upstream): "
            if upstream.requests == 0 {
                text += "not asked yet"
            } else {
                text += upstream.isHealthy ? "answering" : "FAILING"
                text += " (\(upstream.requests) requests, \(upstream.failures) failed"
                if let ago = upstream.lastAnswerSecondsAgo { text += ", last answer \(Self.ago(ago))" }
                if !upstream.isHealthy, let error = upstream.lastError { text += "; \(error)" }
                text += ")"
            }
            lines.append(text)
        }
        if let shared = status.sharedStore {
            var text = "shared:    \(shared.store) (\(shared.mode)): "
            text += shared.available ? "answering" : "FAILING, not asked for a while"
            if !shared.available, let error = shared.lastError { text += " (\(error))" }
            text += "; \(shared.hits) hits, \(shared.misses) misses, \(shared.errors) errors, \(shared.rejected) refused"
            text += "; uploads \(shared.uploadsStored) stored, \(shared.uploadsExisting) there already, \(shared.uploadsQueued) queued, "
                + "\(shared.uploadsDropped) dropped, \(shared.uploadsFailed) failed"
            lines.append(text)
        }
        if let folders = status.prefetch.watchedFolders {
            lines.append("watching:  \(folders.joined(separator: " ")) (goedge watch, seen \(Self.ago(Double(Int64(Date().timeIntervalSince1970) - (status.prefetch.watcherSeenAt ?? 0)))))")
        }
        if status.prefetch.prefetches.isEmpty {
            lines.append("prefetch:  none since the agent started")
        }
        for record in status.prefetch.prefetches.prefix(5) {
            let summary = record.summary
            let age = Self.ago(Double(Int64(Date().timeIntervalSince1970) - record.finishedAt))
            lines.append(
                "prefetch:  \(age): \(record.folders.joined(separator: " ")): \(summary.modules) modules, \(summary.fetched) fetched, "
                    + "\(summary.alreadyCached) already cached, \(summary.failed) failed")
        }
        return lines.joined(separator: "\n")
    }

    static func ago(_ seconds: Double) -> String {
        switch seconds {
        case ..<1: "just now"
        case ..<60: "\(Int(seconds))s ago"
        case ..<3600: "\(Int(seconds / 60))m ago"
        case ..<86400: "\(Int(seconds / 3600))h ago"
        default: "\(Int(seconds / 86400))d ago"
        }
    }
}
