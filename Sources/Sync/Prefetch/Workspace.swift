import GoModules
import ModuleProxy

/// The go.mod, go.work and go.sum files of a workspace, as a client sends
/// them to the agent (by their paths on the client's machine).
public struct WorkspaceFiles: Sendable, Codable, Equatable {
    public struct File: Sendable, Codable, Equatable {
        public var path: String
        public var content: String

        public init(path: String, content: String) {
            self.path = path
            self.content = content
        }

        /// `go.mod`, `go.work`, `go.sum` or `go.work.sum`.
        public var name: String { String(path.split(separator: "/").last ?? "") }
        public var folder: String {
            guard let slash = path.lastIndex(of: "/") else { return "." }
            return slash == path.startIndex ? "/" : String(path[..<slash])
        }
    }

    public var files: [File]
    /// Sent by `goedge watch`: the folders it watches, for `goedge status`.
    public var watchedFolders: [String]?
    /// The go command the builds run, when the client could ask it: the
    /// toolchain it will switch to is warmed too.
    public var goCommand: GoCommandFacts?

    public init(files: [File], watchedFolders: [String]? = nil, goCommand: GoCommandFacts? = nil) {
        self.files = files
        self.watchedFolders = watchedFolders
        self.goCommand = goCommand
    }
}

extension WorkspaceFiles {
    /// Whether these files look saved to the end: they parse, and go.sum
    /// has a line for every module version a main module requires (after
    /// its replacements). `go mod tidy` and `git checkout` write go.mod and
    /// go.sum one after the other; a watcher starts a prefetch at once when
    /// this holds, and waits for the burst to end when it does not.
    public var looksComplete: Bool {
        let workspace = Workspace(self)
        guard workspace.problems.isEmpty, !workspace.mainModules.isEmpty, !workspace.sums.isEmpty else { return false }
        let rules = ModuleGraph.Rules(replacements: workspace.replacements, exclusions: workspace.exclusions)
        for requirement in workspace.mainModules.flatMap(\.requirements) {
            // Excluded, or replaced by a folder: nothing to fetch, nothing in go.sum.
            guard let target = rules.target(of: ModuleVersionKey(module: requirement.module, version: requirement.version)) else {
                continue
            }
            if workspace.hash(of: target, goMod: true) == nil && workspace.hash(of: target, goMod: false) == nil { return false }
        }
        return true
    }
}

/// A workspace read: its main modules, the rules they set, the hashes go.sum
/// knows, and what did not parse.
package struct Workspace {
    var mainModules: [GoModFile] = []
    var replacements: [GoModFile.Replacement] = []
    var exclusions: Set<ModuleVersionKey> = []
    var sums: [GoSumFile] = []
    var problems: [GoFileError] = []
    /// What the go command reads at start to choose its toolchain: the
    /// go.work, or each go.mod sent (each its own build) without one.
    var startFiles: [ToolchainSelection.StartFile] = []
    /// A go.work made the main modules.
    var isWorkspace = false

    /// With a go.work, its `use` folders are the main modules; otherwise every go.mod sent is one.
    package init(_ workspace: WorkspaceFiles) {
        let byPath = Dictionary(workspace.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var moduleFiles: [WorkspaceFiles.File] = []
        if let work = workspace.files.first(where: { $0.name == "go.work" }) {
            isWorkspace = true
            do {
                let parsed = try GoWorkFile(parsing: work.content, file: work.path)
                replacements += parsed.replacements
                startFiles.append(.init(path: work.path, goLine: parsed.goVersion, toolchainLine: parsed.toolchain))
                for use in parsed.uses {
                    let folder = Self.join(work.folder, use)
                    if let goMod = byPath[folder + "/go.mod"] {
                        moduleFiles.append(goMod)
                    } else {
                        problems.append(GoFileError(file: work.path, line: 0, message: "no go.mod sent for use \(use)"))
                    }
                }
            } catch {
                problems.append(error)
            }
        } else {
            moduleFiles = workspace.files.filter { $0.name == "go.mod" }
        }
        for file in moduleFiles {
            do {
                let goMod = try GoModFile(parsing: file.content, file: file.path)
                mainModules.append(goMod)
                if !isWorkspace { startFiles.append(.init(path: file.path, goLine: goMod.goVersion, toolchainLine: goMod.toolchain)) }
                replacements += goMod.replacements
                exclusions.formUnion(goMod.exclusions)
            } catch {
                problems.append(error)
            }
        }
        for file in workspace.files where file.name == "go.sum" || file.name == "go.work.sum" {
            do {
                sums.append(try GoSumFile(parsing: file.content, file: file.path))
            } catch {
                problems.append(error)
            }
        }
    }

    func hash(of key: ModuleVersionKey, goMod: Bool) -> String? {
        for sum in sums {
            if let hash = sum.hash(of: key, goMod: goMod) { return hash }
        }
        return nil
    }

    /// A folder relative to another, with `.` and `..` worked out.
    static func join(_ base: String, _ relative: String) -> String {
        var parts = relative.hasPrefix("/") ? [] : base.split(separator: "/").map(String.init)
        for part in relative.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(String(part))
            }
        }
        let joined = parts.joined(separator: "/")
        return base.hasPrefix("/") || relative.hasPrefix("/") ? "/" + joined : joined
    }
}
