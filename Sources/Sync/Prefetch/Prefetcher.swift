import CoreMetrics
import LRUCache
import Synchronization
import GoModules
import ModuleProxy

/// What a prefetch reports as it goes, one event at a time (the agent
/// streams them to the client as JSON lines).
public struct PrefetchEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// How many files are planned so far.
        case plan
        /// One file: cached already, fetched, or failed.
        case file
        /// Something that could not be read or resolved (a go.mod that does not parse).
        case problem
        /// The end, with the summary.
        case done
    }

    public enum Outcome: String, Sendable, Codable {
        case cached, fetched, failed
    }

    public var kind: Kind
    public var path: String?
    public var outcome: Outcome?
    public var bytes: Int64?
    public var message: String?
    public var planned: Int?
    public var summary: PrefetchSummary?

    public init(
        kind: Kind, path: String? = nil, outcome: Outcome? = nil, bytes: Int64? = nil, message: String? = nil,
        planned: Int? = nil, summary: PrefetchSummary? = nil
    ) {
        self.kind = kind
        self.path = path
        self.outcome = outcome
        self.bytes = bytes
        self.message = message
        self.planned = planned
        self.summary = summary
    }
}

/// What a prefetch did.
public struct PrefetchSummary: Sendable, Codable, Equatable {
    /// Module versions touched.
    public var modules = 0
    public var files = 0
    public var bytes: Int64 = 0
    public var alreadyCached = 0
    public var fetched = 0
    public var failed = 0
    /// One line per failure or problem: what, and why.
    public var failures: [String] = []

    public init() {}
}

/// Warms the cache with everything a workspace needs, so that the next
/// `go build` finds it all on this host.
///
/// Every module version go.sum lists is fetched (`.mod` for a `/go.mod` line;
/// `.zip` and `.info` otherwise), checked against go.sum's hash. When a
/// requirement is not in go.sum yet (a line just added to go.mod), the module
/// graph is walked as the go command walks it, and the `.mod`, `.zip` and
/// `.info` of every selected version are fetched: the go command, completing
/// such a go.mod, adds the modules its imports need as requirements and reads
/// their go.mod files too, so fetching only the main module's own
/// requirements would leave the build short. All of it runs as background
/// work, a few files at a time, sharing in-flight fetches with clients.
public final class Prefetcher: Sendable {
    public let proxy: ModuleProxy
    public let concurrency: Int
    private let jobs = Atomic<Int>(0)
    private let history = Mutex(PrefetchHistory())
    private let jobsCounter = Counter(label: "goedge_prefetch_jobs_total")
    private let modulesCounter = Counter(label: "goedge_prefetch_modules_total")
    private let failuresCounter = Counter(label: "goedge_prefetch_failures_total")

    public init(proxy: ModuleProxy, concurrency: Int) {
        self.proxy = proxy
        self.concurrency = max(1, concurrency)
    }

    /// The last prefetches, newest first, and what `goedge watch` last said it watches.
    public var recent: PrefetchHistory { history.withLock { $0 } }

    /// Prefetch jobs running now (the idle exit waits for them).
    public var jobsInFlight: Int { jobs.load(ordering: .relaxed) }

    public func run(_ files: WorkspaceFiles, report: @escaping @Sendable (PrefetchEvent) -> Void) async -> PrefetchSummary {
        jobs.add(1, ordering: .relaxed)
        defer { jobs.subtract(1, ordering: .relaxed) }
        let workspace = Workspace(files)
        let recorder = Recorder(report: report)
        for problem in workspace.problems { recorder.problem("\(problem)") }

        await fetch(Self.listedInGoSum(workspace), recorder: recorder)

        // Requirements go.sum does not list yet (added by hand since the last
        // build): walk the module graph as the go command will to complete the
        // go.mod, and fetch every selected version.
        let roots = workspace.mainModules.flatMap(\.requirements)
        let rules = ModuleGraph.Rules(replacements: workspace.replacements, exclusions: workspace.exclusions)
        let unlisted = roots.filter { requirement in
            guard let target = rules.target(of: ModuleVersionKey(module: requirement.module, version: requirement.version)) else {
                return false
            }
            return workspace.hash(of: target, goMod: false) == nil
        }
        if !unlisted.isEmpty {
            let pruned = workspace.mainModules.allSatisfy(\.isPruned)
            let graph = await ModuleGraph.load(
                roots: roots, pruned: pruned, rules: rules,
                source: ProxyModuleSource(proxy: proxy, workspace: workspace, recorder: recorder), concurrency: concurrency,
                completing: true)
            // A go.mod that could not be fetched was reported as it failed.
            for (key, reason) in graph.failures.sorted(by: { $0.key.description < $1.key.description })
            where !(reason is ProxyModuleSource.Unavailable) {
                recorder.failed("\(key)", "\(key): \(reason)")
            }
            var selected: [[Step]] = []
            for module in graph.selected.keys.sorted(by: { $0.path < $1.path }) {
                guard let version = graph.selected[module],
                    let target = rules.target(of: ModuleVersionKey(module: module, version: version))
                else { continue }
                selected.append([
                    Step(.mod(target.module, target.version), workspace.hash(of: target, goMod: true)),
                    Step(.zip(target.module, target.version), workspace.hash(of: target, goMod: false)),
                    Step(.info(target.module, target.version), nil),
                ])
            }
            await fetch(selected, recorder: recorder)
        }
        let summary = recorder.summary()
        report(PrefetchEvent(kind: .done, summary: summary))
        jobsCounter.increment()
        modulesCounter.increment(by: Int64(summary.modules))
        failuresCounter.increment(by: Int64(summary.failed))
        history.withLock { $0.add(PrefetchRecord(files: files, summary: summary), watchedFolders: files.watchedFolders) }
        return summary
    }

    /// What go.sum lists, in the order the go command will want it: every
    /// `.mod` first (it reads the module graph before any zip), then the
    /// zips of the main modules' own requirements (their packages are
    /// built first), then the other zips. A version's zip comes before its
    /// .info: one whose zip fails its check gets nothing cached.
    static func listedInGoSum(_ workspace: Workspace) -> [[Step]] {
        let direct = Set(workspace.mainModules.flatMap(\.requirements).filter { !$0.indirect }.map(\.module))
        var mods: [[Step]] = []
        var directZips: [[Step]] = []
        var otherZips: [[Step]] = []
        for sum in workspace.sums {
            for line in sum.lines {
                let key = ModuleVersionKey(module: line.module, version: line.version)
                guard !workspace.exclusions.contains(key) else { continue }
                if line.goModOnly {
                    mods.append([Step(.mod(line.module, line.version), line.hash)])
                } else {
                    let chain = [Step(.zip(line.module, line.version), line.hash), Step(.info(line.module, line.version), nil)]
                    if direct.contains(line.module) { directZips.append(chain) } else { otherZips.append(chain) }
                }
            }
        }
        return mods + directZips + otherZips
    }

    /// One file to fetch, and the hash to check it against, if known.
    struct Step: Sendable {
        let resource: ProxyResource
        let expectedHash: String?

        init(_ resource: ProxyResource, _ expectedHash: String?) {
            self.resource = resource
            self.expectedHash = expectedHash
        }
    }

    /// Fetches chains of files, a few chains at a time. The files of a chain
    /// are fetched in order, and a failed one ends its chain. Files this job
    /// has seen already are skipped.
    private func fetch(_ chains: [[Step]], recorder: Recorder) async {
        let pending = chains.map { $0.filter { recorder.claim($0.resource) } }.filter { !$0.isEmpty }
        recorder.plan(pending.reduce(0) { $0 + $1.count })
        var next = pending.makeIterator()
        await withTaskGroup(of: Void.self) { group in
            func add() -> Bool {
                guard let chain = next.next() else { return false }
                group.addTask { [proxy] in
                    for step in chain {
                        let fetched = await Self.fetch(step.resource, expectedHash: step.expectedHash, proxy: proxy, recorder: recorder)
                        if !fetched.ok { return }
                    }
                }
                return true
            }
            for _ in 0..<concurrency where !add() { break }
            while await group.next() != nil { _ = add() }
        }
    }

    /// Fetches one file and records how it went: whether it is there (and
    /// matched its hash), and its bytes when the caller wants them (a go.mod).
    @discardableResult
    static func fetch(
        _ resource: ProxyResource, expectedHash: String?, proxy: ModuleProxy, recorder: Recorder, keepBytes: Bool = false
    ) async -> (ok: Bool, bytes: [UInt8]?) {
        let answer = await proxy.answer(ProxyRequest(resource), priority: .background, verify: expectedHash)
        defer { answer.release() }
        let path = resource.protocolPath
        // goedge's own verdict (a checksum mismatch, a damaged file passed on
        // unstored, an unreachable upstream) says what happened.
        if let failure = answer.failure {
            recorder.failed(path, "\(failure)")
            return (false, nil)
        }
        guard answer.status == 200 else {
            // The upstream's own answer: its first line says why.
            let reason = String(decoding: answer.bodyBytes ?? [], as: UTF8.self).textLines.first.map(String.init) ?? ""
            recorder.failed(path, "\(path): \(answer.status) \(answer.reason)" + (reason.isEmpty ? "" : ": \(reason)"))
            return (false, nil)
        }
        // Checked again whatever its source: a file cached earlier, or fetched
        // for a client, was not checked against this go.sum. (For a zip checked
        // as it arrived, its hash is on record: no second pass over it.)
        if let expectedHash, let mismatch = await proxy.verify(answer, for: resource, expectedHash: expectedHash) {
            recorder.failed(path, "\(mismatch)")
            return (false, nil)
        }
        recorder.done(path, resource: resource, fetched: answer.cacheStatus == .miss, bytes: answer.contentLength ?? 0)
        return (true, keepBytes ? answer.bodyBytes : nil)
    }
}

/// The graph walk's go.mod files and version lists, through the proxy.
struct ProxyModuleSource: ModuleSource {
    let proxy: ModuleProxy
    let workspace: Workspace
    let recorder: Recorder

    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    func goMod(_ key: ModuleVersionKey) async throws -> GoModFile {
        let resource = ProxyResource.mod(key.module, key.version)
        let bytes: [UInt8]?
        if recorder.claim(resource) {
            bytes = await Prefetcher.fetch(
                resource, expectedHash: workspace.hash(of: key, goMod: true), proxy: proxy, recorder: recorder, keepBytes: true
            ).bytes
        } else {
            // Fetched by this job already: from the cache now.
            let answer = await proxy.answer(ProxyRequest(resource), priority: .background)
            defer { answer.release() }
            bytes = answer.status == 200 ? answer.bodyBytes : nil
        }
        guard let bytes else { throw Unavailable(description: "its go.mod could not be fetched") }
        return try Self.parse(bytes, key: key).get()
    }

    /// Parsed outside the async function: Swift 6.3's optimizer crashes
    /// (signal 11, splitting the coroutine) on a typed-throws call inside it.
    private static func parse(_ bytes: [UInt8], key: ModuleVersionKey) -> Result<GoModFile, GoFileError> {
        Result { () throws(GoFileError) in
            try GoModFile(parsing: String(decoding: bytes, as: UTF8.self), file: "\(key)/go.mod", strict: false)
        }
    }

    func versions(_ module: ModulePath) async throws -> [ModuleVersion] {
        let answer = await proxy.answer(ProxyRequest(.list(module)), priority: .background)
        defer { answer.release() }
        guard answer.status == 200, let bytes = answer.bodyBytes else {
            throw Unavailable(description: "its version list could not be fetched")
        }
        return String(decoding: bytes, as: UTF8.self).textLines.compactMap {
            try? ModuleVersion(String($0.split(separator: " ").first ?? ""))
        }
    }
}

/// Keeps one prefetch job's accounts, and reports each step.
final class Recorder: Sendable {
    private struct State {
        var claimed: Set<ProxyResource> = []
        var modules: Set<String> = []
        var planned = 0
        var summary = PrefetchSummary()
    }
    private let state = Mutex(State())
    private let report: @Sendable (PrefetchEvent) -> Void

    init(report: @escaping @Sendable (PrefetchEvent) -> Void) {
        self.report = report
    }

    /// True the first time a resource is seen by this job.
    func claim(_ resource: ProxyResource) -> Bool {
        state.withLock { $0.claimed.insert(resource).inserted }
    }

    func plan(_ count: Int) {
        let planned = state.withLock { state in
            state.planned += count
            return state.planned
        }
        report(PrefetchEvent(kind: .plan, planned: planned))
    }

    func done(_ path: String, resource: ProxyResource, fetched: Bool, bytes: Int64) {
        state.withLock { state in
            if let (module, version) = resource.moduleVersion { state.modules.insert("\(module.path)@\(version.text)") }
            state.summary.files += 1
            state.summary.bytes += bytes
            if fetched { state.summary.fetched += 1 } else { state.summary.alreadyCached += 1 }
        }
        report(PrefetchEvent(kind: .file, path: path, outcome: fetched ? .fetched : .cached, bytes: bytes))
    }

    func failed(_ path: String, _ reason: String) {
        state.withLock { state in
            state.summary.files += 1
            state.summary.failed += 1
            state.summary.failures.append(reason)
        }
        report(PrefetchEvent(kind: .file, path: path, outcome: .failed, message: reason))
    }

    func problem(_ message: String) {
        state.withLock { state in
            state.summary.failed += 1
            state.summary.failures.append(message)
        }
        report(PrefetchEvent(kind: .problem, message: message))
    }

    func summary() -> PrefetchSummary {
        state.withLock { state in
            var summary = state.summary
            summary.modules = state.modules.count
            return summary
        }
    }
}
