/// Where the go.mod files and version lists of dependencies come from: the
/// caching proxy in the agent, a table in tests.
public protocol ModuleSource: Sendable {
    /// The go.mod of a module version (parsed laxly, as a dependency's).
    func goMod(_ key: ModuleVersionKey) async throws -> GoModFile
    /// The module's released versions (its `list`).
    func versions(_ module: ModulePath) async throws -> [ModuleVersion]
}

/// The module graph of one or more main modules, loaded as the go command
/// loads it (cmd/go/internal/modload.readModGraph) and resolved with minimal
/// version selection.
///
/// With a main module at go 1.17 or later the graph is pruned: the go.mod of
/// each requirement of a main module is read, and its requirements become
/// edges of the graph, but theirs are read only below a dependency at an
/// earlier go version (whose whole graph is then read). Replacements apply
/// (a local-path replacement is not read: there is nothing to fetch), and an
/// excluded version is replaced by the next higher one that is not.
public struct ModuleGraph: Sendable {
    /// The version minimal version selection chose for each module path.
    public private(set) var selected: [ModulePath: ModuleVersion] = [:]
    /// Every go.mod that was read: the go command reads them too.
    public private(set) var loaded: Set<ModuleVersionKey> = []
    /// Modules whose go.mod (or version list) could not be had, and why.
    public private(set) var failures: [ModuleVersionKey: any Error] = [:]

    /// An excluded version with nothing to take its place.
    public struct ExclusionProblem: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Rules: Sendable {
        public var replacements: [GoModFile.Replacement] = []
        public var exclusions: Set<ModuleVersionKey> = []

        public init(replacements: [GoModFile.Replacement] = [], exclusions: Set<ModuleVersionKey> = []) {
            self.replacements = replacements
            self.exclusions = exclusions
        }

        /// What to fetch for a required module version, or nil for a local folder.
        public func target(of key: ModuleVersionKey) -> ModuleVersionKey? {
            let replacement =
                replacements.first { $0.module == key.module && $0.version == key.version }
                ?? replacements.first { $0.module == key.module && $0.version == nil }
            guard let replacement else { return key }
            switch replacement.target {
            case .module(let module, let version): return ModuleVersionKey(module: module, version: version)
            case .localPath: return nil
            }
        }
    }

    /// Loads and resolves the graph from `roots` (the main modules' requirements).
    ///
    /// `completing` also reads the go.mod of every selected version, and on
    /// from there, as the go command does once it adds them to a main module
    /// whose go.mod lacks them (`go build -mod=mod` or `go mod tidy` after a
    /// requirement was added by hand): what such a build may need.
    public static func load(
        roots: [GoModFile.Requirement], pruned: Bool, rules: Rules, source: some ModuleSource, concurrency: Int = 8,
        completing: Bool = false
    ) async -> ModuleGraph {
        var graph = ModuleGraph()
        var requirements: [ModuleVersionKey] = []
        // Enqueued loads: the key, and whether everything below it must be read too.
        var queue: [(key: ModuleVersionKey, unpruned: Bool)] = []
        var enqueued: Set<ModuleVersionKey> = []
        for root in roots {
            let key = await graph.allowed(ModuleVersionKey(module: root.module, version: root.version), rules: rules, source: source)
            requirements.append(key)
            if enqueued.insert(key).inserted { queue.append((key, !pruned)) }
        }
        while true {
            if queue.isEmpty && completing {
                // Selected versions whose go.mod was not read yet: read them as roots would be.
                for key in Self.select(requirements).map({ ModuleVersionKey(module: $0.key, version: $0.value) })
                    .sorted(by: { $0.description < $1.description }) where enqueued.insert(key).inserted
                {
                    queue.append((key, !pruned))
                }
            }
            if queue.isEmpty { break }
            let batch = Array(queue.prefix(concurrency))
            queue.removeFirst(batch.count)
            let results = await withTaskGroup(of: (ModuleVersionKey, Bool, Result<GoModFile, any Error>?).self) { group in
                for (key, unpruned) in batch {
                    group.addTask {
                        guard let target = rules.target(of: key) else { return (key, unpruned, nil) }
                        do {
                            return (key, unpruned, .success(try await source.goMod(target)))
                        } catch {
                            return (key, unpruned, .failure(error))
                        }
                    }
                }
                var results: [(ModuleVersionKey, Bool, Result<GoModFile, any Error>?)] = []
                for await result in group { results.append(result) }
                return results.sorted { $0.0.description < $1.0.description }
            }
            for (key, unpruned, result) in results {
                guard let result else { continue }  // a local folder: nothing to read
                let goMod: GoModFile
                switch result {
                case .success(let file): goMod = file
                case .failure(let error):
                    graph.failures[key] = error
                    continue
                }
                graph.loaded.insert(rules.target(of: key) ?? key)
                // Below an unpruned module (or everywhere, in an unpruned graph) read on.
                let readOn = unpruned || !goMod.isPruned
                for requirement in goMod.requirements {
                    let edge = await graph.allowed(
                        ModuleVersionKey(module: requirement.module, version: requirement.version), rules: rules, source: source)
                    requirements.append(edge)
                    if readOn && enqueued.insert(edge).inserted { queue.append((edge, true)) }
                }
            }
        }
        graph.selected = select(requirements)
        return graph
    }

    /// Minimal version selection: the highest version required of each path.
    private static func select(_ requirements: [ModuleVersionKey]) -> [ModulePath: ModuleVersion] {
        var selected: [ModulePath: ModuleVersion] = [:]
        for key in requirements {
            if let current = selected[key.module], !isHigher(key.version, than: current) { continue }
            selected[key.module] = key.version
        }
        return selected
    }

    /// An excluded version gives way to the next higher one that is not (as the go command does).
    private mutating func allowed(_ key: ModuleVersionKey, rules: Rules, source: some ModuleSource) async -> ModuleVersionKey {
        guard rules.exclusions.contains(key) else { return key }
        do {
            let next = try await source.versions(key.module)
                .filter { Self.isHigher($0, than: key.version) && !rules.exclusions.contains(ModuleVersionKey(module: key.module, version: $0)) }
                .min { Self.isHigher($1, than: $0) }
            if let next { return ModuleVersionKey(module: key.module, version: next) }
            failures[key] = ExclusionProblem(description: "excluded, and no higher version is listed")
        } catch {
            failures[key] = ExclusionProblem(description: "excluded, and its versions cannot be listed: \(error)")
        }
        return key
    }

    static func isHigher(_ version: ModuleVersion, than other: ModuleVersion) -> Bool {
        guard let left = version.semantic, let right = other.semantic else { return version.text > other.text }
        return SemanticVersion.compare(left, right) > 0
    }
}
