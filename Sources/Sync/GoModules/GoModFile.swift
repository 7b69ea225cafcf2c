/// A go.mod file: what prefetching needs of it.
///
/// Parsed as golang.org/x/mod/modfile does. `strict` is for a main module's
/// own file (unknown directives are errors, replace and exclude count); a
/// dependency's go.mod is read laxly, as the go command does: only module,
/// go, require and retract matter, anything else is ignored.
public struct GoModFile: Sendable, Equatable {
    public struct Requirement: Sendable, Equatable, Hashable {
        public let module: ModulePath
        public let version: ModuleVersion
        /// Marked `// indirect`: needed for another module's sake.
        public let indirect: Bool
    }

    public struct Replacement: Sendable, Equatable {
        public enum Target: Sendable, Equatable {
            case module(ModulePath, ModuleVersion)
            /// A folder on this machine: nothing to fetch.
            case localPath(String)
        }

        public let module: ModulePath
        /// Only this version is replaced; nil: every version.
        public let version: ModuleVersion?
        public let target: Target
    }

    /// A retracted version (`low == high`) or range.
    public struct VersionInterval: Sendable, Equatable {
        public let low: String
        public let high: String
    }

    public var module: ModulePath?
    public var goVersion: String?
    public var toolchain: String?
    public var requirements: [Requirement] = []
    public var exclusions: [ModuleVersionKey] = []
    public var replacements: [Replacement] = []
    public var retractions: [VersionInterval] = []

    public init(parsing text: String, file: String, strict: Bool = true) throws(GoFileError) {
        let lines = try GoModLexer.lines(text, file: file)
        for (verb, arguments, line) in try GoModLexer.directives(lines, file: file) {
            func fail(_ message: String) -> GoFileError { GoFileError(file: file, line: line.number, message: message) }
            if !strict && !["module", "go", "require", "retract"].contains(verb) { continue }
            let values = arguments.compactMap(\.text)
            switch verb {
            case "module":
                guard arguments.count == 1, let path = values.first else { throw fail("usage: module module/path") }
                do {
                    module = try ModulePath(path)
                } catch {
                    // A main module's own path may be anything the go command accepts locally.
                    if strict { module = nil } else { throw fail("\(error)") }
                }
            case "go":
                guard goVersion == nil else { throw fail("repeated go statement") }
                guard arguments.count == 1, let version = values.first, Self.isGoVersion(version) || !strict else {
                    throw fail("invalid go version: must match format 1.23")
                }
                goVersion = version
            case "toolchain":
                guard arguments.count == 1, let name = values.first else { throw fail("usage: toolchain go1.21.0") }
                toolchain = name
            case "require", "exclude":
                guard arguments.count == 2, values.count == 2 else { throw fail("usage: \(verb) module/path v1.2.3") }
                let module = try Self.modulePath(values[0], fail)
                let version = try Self.canonicalVersion(values[1], fail)
                if verb == "require" {
                    let indirect = line.suffixComment.map(Self.isIndirect) ?? false
                    requirements.append(Requirement(module: module, version: version, indirect: indirect))
                } else {
                    exclusions.append(ModuleVersionKey(module: module, version: version))
                }
            case "replace":
                replacements.append(try Self.replacement(values, count: arguments.count, fail))
            case "retract":
                if let interval = Self.interval(arguments) {
                    retractions.append(interval)
                } else if strict {
                    throw fail("usage: retract v1.2.3 or retract [v1.2.0, v1.2.3]")
                }
            case "godebug", "tool", "ignore":
                // Newer directives that change nothing about what to download.
                continue
            default:
                throw fail("unknown directive: \(verb)")
            }
        }
    }

    /// Go 1.17 and later prune the module graph below this module.
    public var isPruned: Bool {
        guard let goVersion else { return false }
        let parts = goVersion.split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) }
        return parts.count >= 2 && (parts[0] > 1 || parts[1] >= 17)
    }

    static func isGoVersion(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count) else { return false }
        return parts.enumerated().allSatisfy { index, part in
            // The last part may carry a pre-release suffix: 1.21rc1.
            let digits = index == parts.count - 1 ? part.prefix { $0.isNumber } : part
            return !digits.isEmpty && digits.allSatisfy(\.isNumber) && (digits == "0" || digits.first != "0")
        }
    }

    /// `// indirect`, or `// indirect; other words`.
    static func isIndirect(_ comment: String) -> Bool {
        let fields = comment.split(whereSeparator: \.isWhitespace)
        return fields.first == "indirect" && fields.count == 1 || fields.first == "indirect;"
    }

    private static func modulePath(_ text: String, _ fail: (String) -> GoFileError) throws(GoFileError) -> ModulePath {
        do {
            return try ModulePath(text)
        } catch {
            throw fail("\(error)")
        }
    }

    private static func canonicalVersion(_ text: String, _ fail: (String) -> GoFileError) throws(GoFileError) -> ModuleVersion {
        guard let version = try? ModuleVersion(text), version.isCanonical else {
            throw fail("invalid version \"\(text)\": must be of the form v1.2.3")
        }
        return version
    }

    /// A replace directive's arguments (shared with go.work).
    static func replacement(
        _ values: [String], count: Int, _ fail: (String) -> GoFileError
    ) throws(GoFileError) -> Replacement {
        guard let arrow = values.firstIndex(of: "=>"), values.count == count, (1...2).contains(arrow),
            (1...2).contains(values.count - arrow - 1)
        else { throw fail("usage: replace module/path [v1.2.3] => other/module v1.4.5 or ./local/folder") }
        let module = try modulePath(values[0], fail)
        let version = arrow == 2 ? try canonicalVersion(values[1], fail) : nil
        let target = Array(values[(arrow + 1)...])
        if target.count == 1 {
            let path = target[0]
            guard path.hasPrefix("./") || path.hasPrefix("../") || path.hasPrefix("/") || path == "." || path == ".." else {
                throw fail("replacement module without version must be a directory path (rooted or starting with ./ or ../)")
            }
            return Replacement(module: module, version: version, target: .localPath(path))
        }
        return Replacement(
            module: module, version: version, target: .module(try modulePath(target[0], fail), try canonicalVersion(target[1], fail)))
    }

    private static func interval(_ arguments: [GoModLexer.Token]) -> VersionInterval? {
        switch arguments.count {
        case 1:
            return arguments[0].text.map { VersionInterval(low: $0, high: $0) }
        case 5:
            guard arguments[0] == .punctuation("["), arguments[2] == .punctuation(","), arguments[4] == .punctuation("]"),
                let low = arguments[1].text, let high = arguments[3].text
            else { return nil }
            return VersionInterval(low: low, high: high)
        default:
            return nil
        }
    }
}

/// A module at a version.
public struct ModuleVersionKey: Sendable, Hashable, CustomStringConvertible {
    public let module: ModulePath
    public let version: ModuleVersion

    public init(module: ModulePath, version: ModuleVersion) {
        self.module = module
        self.version = version
    }

    public var description: String { "\(module.path)@\(version.text)" }
}
