import GoModules
import ModuleProxy

/// One prefetch: everything a workspace needs, fetched from a
/// ``PrefetchSource`` a few files at a time.
///
/// Every module version go.sum lists is fetched (`.mod` for a `/go.mod` line;
/// `.zip` and `.info` otherwise), checked against go.sum's hash. When a
/// requirement is not in go.sum yet (a line just added to go.mod), the module
/// graph is walked as the go command walks it, and the `.mod`, `.zip` and
/// `.info` of every selected version are fetched: the go command, completing
/// such a go.mod, adds the modules its imports need as requirements and reads
/// their go.mod files too, so fetching only the main module's own
/// requirements would leave the build short.
public struct PrefetchJob: Sendable {
    public let source: any PrefetchSource
    public let concurrency: Int

    public init(source: any PrefetchSource, concurrency: Int) {
        self.source = source
        self.concurrency = max(1, concurrency)
    }

    /// Runs the prefetch; `report` sees each step, the last one `done` with
    /// the summary, which is also returned.
    public func run(_ files: WorkspaceFiles, report: @escaping @Sendable (PrefetchEvent) -> Void) async -> PrefetchSummary {
        let workspace = Workspace(files)
        let recorder = PrefetchRecorder(report: report)
        for problem in workspace.problems { recorder.problem("\(problem)") }

        // The toolchain the go command switches to first: it downloads that before any module.
        async let toolchains: Void = warmToolchains(workspace, facts: files.goCommand, recorder: recorder)
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
                source: GraphSource(source: source, workspace: workspace, recorder: recorder), concurrency: concurrency,
                completing: true)
            // A go.mod that could not be fetched was reported as it failed.
            for (key, reason) in graph.failures.sorted(by: { $0.key.description < $1.key.description })
            where !(reason is GraphSource.Unavailable) {
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
        await toolchains
        let summary = recorder.summary()
        report(PrefetchEvent(kind: .done, summary: summary))
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
    private func fetch(_ chains: [[Step]], recorder: PrefetchRecorder) async {
        let pending = chains.map { $0.filter { recorder.claim($0.resource) } }.filter { !$0.isEmpty }
        recorder.plan(pending.reduce(0) { $0 + $1.count })
        var next = pending.makeIterator()
        await withTaskGroup(of: Void.self) { group in
            func add() -> Bool {
                guard let chain = next.next() else { return false }
                group.addTask { [source] in
                    for step in chain {
                        let fetched = await Self.fetch(step.resource, expectedHash: step.expectedHash, from: source, recorder: recorder)
                        if case .failed = fetched { return }
                    }
                }
                return true
            }
            for _ in 0..<concurrency where !add() { break }
            while await group.next() != nil { _ = add() }
        }
    }

    /// Fetches one file and records how it went.
    static func fetch(
        _ resource: ProxyResource, expectedHash: String?, from source: any PrefetchSource, recorder: PrefetchRecorder,
        keepBytes: Bool = false
    ) async -> PrefetchFetch {
        let fetched = await source.fetch(resource, expectedHash: expectedHash, keepBytes: keepBytes)
        switch fetched {
        case .failed(let reason):
            recorder.failed(resource.protocolPath, reason)
        case .stored(let fetchedNow, let bytes, _):
            recorder.done(resource.protocolPath, resource: resource, fetched: fetchedNow, bytes: bytes)
        }
        return fetched
    }
}

/// The graph walk's go.mod files and version lists, through the job's source.
struct GraphSource: ModuleSource {
    let source: any PrefetchSource
    let workspace: Workspace
    let recorder: PrefetchRecorder

    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    func goMod(_ key: ModuleVersionKey) async throws -> GoModFile {
        let resource = ProxyResource.mod(key.module, key.version)
        let fetched: PrefetchFetch
        if recorder.claim(resource) {
            fetched = await PrefetchJob.fetch(
                resource, expectedHash: workspace.hash(of: key, goMod: true), from: source, recorder: recorder, keepBytes: true)
        } else {
            // Fetched by this job already: from the cache now.
            fetched = await source.fetch(resource, expectedHash: nil, keepBytes: true)
        }
        guard case .stored(_, _, let body) = fetched, let bytes = body else {
            throw Unavailable(description: "its go.mod could not be fetched")
        }
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
        guard let versions = await source.versions(of: module) else {
            throw Unavailable(description: "its version list could not be fetched")
        }
        return versions
    }
}
