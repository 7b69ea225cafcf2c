import CoreMetrics
import LRUCache
import Synchronization
import GoModules
import Upstream

/// Fetches what a client will ask for next, before it asks.
///
/// A cold `go mod download` or `go build` is bound by round trips: the go
/// command asks for one file at a time. When a client asks for the `.info`
/// or `.mod` of a version, that version's other files are fetched at once
/// (for a `.mod`, unless a go.mod read lately requires a higher version of
/// its module: the go command reads the go.mod files of versions it does
/// not select, but downloads only the one it selects);
/// when a client gets a `.mod` that had to be fetched (or was read ahead and
/// is now used for the first time), the `.mod` files the go command's graph
/// loading will read next are fetched too. It follows the go command's own
/// rule (modload's readModGraph): a module older than go 1.17 is unpruned, and
/// the go.mod files of all its requirements are read, theirs too, whatever
/// their go version (to a bounded depth here); a module at go 1.17 or later is
/// pruned, and its requirements' go.mod files are not read at all (a pruned
/// main module lists what it needs itself). A go 1.16 main module, which
/// reads everything, gets its go.mod files on demand below pruned modules.
/// With a fleet's shared store, the go.mod files below a pruned module are
/// read ahead from the store alone (see ``ModuleProxy/answerFromSharedStore(_:)``):
/// there they cost no upstream request, and the go command, which loads a
/// graph two go.mod files at a time, finds them here.
/// All of it runs as
/// background work: it never delays a client, and a client asking for a file
/// in flight joins that fetch.
///
/// Counted, so its waste can be seen: files read ahead, and how many of them
/// a client then asked for.
public final class ReadAhead: Sendable {
    public struct Statistics: Sendable, Equatable {
        /// Files fetched ahead of a client.
        public var filesReadAhead: Int
        /// Of those, the ones a client then asked for.
        public var filesUsed: Int
    }

    public let isEnabled: Bool
    /// How deep below a fetched go.mod its requirements' go.mod files are read ahead.
    let maximumDepth: Int
    /// Read-ahead fetches in flight at most; beyond, new ones are dropped.
    let maximumOutstanding: Int

    private struct State {
        var outstanding = 0
        /// Keys read ahead and not yet asked for (bounded).
        var unused: Set<CacheKey> = []
        var statistics = Statistics(filesReadAhead: 0, filesUsed: 0)
        /// Settled when nothing is outstanding any more, for ``settled()``.
        var quiet: Settlement<Void>?
        /// The highest version of each module that a go.mod read lately
        /// requires (bounded), and when it was seen.
        var highestRequired: [ModulePath: (version: SemanticVersion, seen: ContinuousClock.Instant)] = [:]
    }
    private let state = Mutex(State())
    /// `state.unused.count`, readable without the lock.
    private let unusedCount = Atomic<Int>(0)
    private static let rememberedKeys = 100_000
    /// How long a requirement seen in a go.mod says which version a build selects: about one build's graph loading.
    private static let requirementMemory = Duration.seconds(600)
    private let filesReadAheadCounter = Counter(label: "goedge_read_ahead_files_total")
    private let filesUsedCounter = Counter(label: "goedge_read_ahead_used_total")

    public init(enabled: Bool = true, maximumDepth: Int = 4, maximumOutstanding: Int = 512) {
        self.isEnabled = enabled
        self.maximumDepth = maximumDepth
        self.maximumOutstanding = maximumOutstanding
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Read-ahead fetches started and not yet ended.
    public var outstanding: Int { state.withLock { $0.outstanding } }

    /// Called with every answer a client got.
    ///
    /// Only a miss, or the first use of a file read ahead, starts more: a
    /// plain hit means its version's files were fetched together before (the
    /// eviction unit is the whole version). This keeps hits cheap: without
    /// files read ahead and unused, a hit costs one atomic load here.
    func clientAnswered(_ request: ProxyRequest, _ answer: ProxyAnswer, proxy: ModuleProxy) {
        var wasReadAhead = false
        if unusedCount.load(ordering: .relaxed) > 0, let key = request.cacheKey {
            wasReadAhead = state.withLock { state in
                guard state.unused.remove(key) != nil else { return false }
                unusedCount.store(state.unused.count, ordering: .relaxed)
                state.statistics.filesUsed += 1
                return true
            }
            if wasReadAhead { filesUsedCounter.increment() }
        }
        guard isEnabled, answer.status == 200, answer.cacheStatus == .miss || wasReadAhead else { return }
        let resource = request.resource
        guard let (module, version) = resource.moduleVersion, version.isCanonical else { return }
        switch resource {
        case .info:
            start(.mod(module, version), depth: 0, proxy: proxy, requirements: .byItsOwnRule)
            start(.zip(module, version), depth: 0, proxy: proxy)
        case .mod:
            // The go command reads the go.mod files of versions it does not
            // select (below an unpruned module, all of them), but downloads
            // only the one it selects, which is at least the highest any
            // go.mod it read requires.
            if !isSuperseded(module, version) {
                start(.info(module, version), depth: 0, proxy: proxy)
                start(.zip(module, version), depth: 0, proxy: proxy)
            }
            // A go.mod fetched just now, or read ahead and now used: its
            // requirements' go.mod files come next. So read-ahead stays a
            // level ahead of the go command's graph loading, and goes no
            // further than what the go command really reads.
            if let text = Self.text(of: answer) {
                requirementsFetched(text, module: module, version: version, depth: 0, itself: .byItsOwnRule, proxy: proxy)
            }
        default:
            break
        }
    }

    /// Which requirements of a go.mod read ahead are read ahead in turn.
    private enum Requirements {
        /// None (a version's own .info and .zip).
        case none
        /// Its requirements' go.mod files if it is unpruned (go < 1.17);
        /// if it is pruned, from the shared store alone.
        case byItsOwnRule
        /// All of them: it is reached through an unpruned module, and below
        /// one the go command reads everything.
        case all
        /// All of them, from the shared store alone: it is reached through
        /// a pruned module, and the go command may not ask for it.
        case fromSharedStore
    }

    /// Reads ahead the go.mod files of `text`'s requirements: those the go
    /// command will read (all of them below an unpruned module), and below
    /// a pruned one, those the shared store has.
    private func requirementsFetched(
        _ text: String, module: ModulePath, version: ModuleVersion, depth: Int, itself: Requirements, proxy: ModuleProxy
    ) {
        guard let goMod = try? GoModFile(parsing: text, file: "\(module.path)@\(version.text)/go.mod", strict: false) else {
            return
        }
        noteRequirements(of: goMod)
        guard itself != .none else { return }
        let next: Requirements
        switch itself {
        case .all: next = .all
        case .byItsOwnRule where !goMod.isPruned: next = .all
        case .byItsOwnRule, .fromSharedStore: next = .fromSharedStore
        case .none: return
        }
        if next == .fromSharedStore && proxy.shared == nil { return }
        for requirement in goMod.requirements {
            start(.mod(requirement.module, requirement.version), depth: depth + 1, proxy: proxy, requirements: next)
        }
    }

    /// Fetches `resource` in the background unless it is cached or too much
    /// is in flight; for a go.mod, then its requirements' as `requirements` says.
    private func start(_ resource: ProxyResource, depth: Int, proxy: ModuleProxy, requirements: Requirements = .none) {
        let request = ProxyRequest(resource)
        // Cached, or on its way for someone already: nothing to read ahead.
        guard depth <= maximumDepth, let key = request.cacheKey, proxy.store.info(key) == nil, !proxy.isFetching(key) else {
            return
        }
        let admitted = state.withLock { state in
            guard state.outstanding < maximumOutstanding, !state.unused.contains(key) else { return false }
            state.outstanding += 1
            // Remembered from the start, so a client joining the fetch in flight counts as a use.
            if state.unused.count < Self.rememberedKeys { state.unused.insert(key) }
            unusedCount.store(state.unused.count, ordering: .relaxed)
            return true
        }
        guard admitted else { return }
        proxy.background.submit { [self] in
            let answer: ProxyAnswer
            if requirements == .fromSharedStore {
                answer = await proxy.answerFromSharedStore(request) ?? .text(404, "not in the shared store", cacheStatus: .passThrough)
            } else {
                answer = await proxy.answer(request, priority: .background)
            }
            // What this go.mod brings is started before this fetch counts as
            // ended: no moment shows nothing outstanding while more is coming.
            if case .mod(let module, let version) = resource, answer.status == 200, let text = Self.text(of: answer) {
                requirementsFetched(text, module: module, version: version, depth: depth, itself: requirements, proxy: proxy)
            }
            let quiet: Settlement<Void>? = state.withLock { state in
                state.outstanding -= 1
                if answer.cacheStatus == .miss, answer.status == 200 {
                    state.statistics.filesReadAhead += 1
                } else {
                    state.unused.remove(key)
                    unusedCount.store(state.unused.count, ordering: .relaxed)
                }
                guard state.outstanding == 0 else { return nil }
                defer { state.quiet = nil }
                return state.quiet
            }
            if answer.cacheStatus == .miss, answer.status == 200 { filesReadAheadCounter.increment() }
            quiet?.settle(())
        }
    }

    /// Remembers the highest version of each module `goMod` requires.
    private func noteRequirements(of goMod: GoModFile) {
        let now = ContinuousClock.now
        state.withLock { state in
            // Bounded: past the limit, what was remembered is let go (read-ahead fetches more, never less).
            if state.highestRequired.count >= Self.rememberedKeys { state.highestRequired.removeAll() }
            for requirement in goMod.requirements {
                guard let version = SemanticVersion(requirement.version.text) else { continue }
                if let known = state.highestRequired[requirement.module],
                    now - known.seen < Self.requirementMemory, !(known.version < version)
                {
                    continue
                }
                state.highestRequired[requirement.module] = (version, now)
            }
        }
    }

    /// Whether a go.mod read lately requires a higher version of `module`
    /// than `version`: then the go command will not download this one.
    private func isSuperseded(_ module: ModulePath, _ version: ModuleVersion) -> Bool {
        guard let asked = SemanticVersion(version.text) else { return false }
        return state.withLock { state in
            guard let known = state.highestRequired[module], ContinuousClock.now - known.seen < Self.requirementMemory else { return false }
            return asked < known.version
        }
    }

    /// Returns once no read-ahead fetch is outstanding (at once if none is).
    public func settled() async {
        let quiet: Settlement<Void>? = state.withLock { state in
            guard state.outstanding > 0 else { return nil }
            if state.quiet == nil { state.quiet = Settlement() }
            return state.quiet
        }
        await quiet?.value
    }

    private static func text(of answer: ProxyAnswer) -> String? {
        answer.bodyBytes.map { String(decoding: $0, as: UTF8.self) }
    }
}
