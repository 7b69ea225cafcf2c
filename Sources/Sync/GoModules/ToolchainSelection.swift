/// Which Go toolchain the go command (Go 1.21+) will run for a workspace,
/// and so download as the module `golang.org/toolchain`: its own rules
/// (go.dev/doc/toolchain, cmd/go/internal/toolchain), applied ahead of it so
/// that `goedge prefetch` and `goedge watch` can warm that toolchain.
///
/// At start the go command reads `GOTOOLCHAIN` (`auto`, `path`, `local`, a
/// name, or `NAME+auto`/`NAME+path`) and, in `auto` and `path` mode, the
/// `go` and `toolchain` lines of the go.work (in a workspace) or the go.mod:
/// a `toolchain` line newer than the minimum wins, then a `go` line newer
/// still (`go 1.N` for N ≥ 21 names `go1.N.0`). When a main module then
/// needs a newer Go than that (a workspace module's go line above the
/// go.work's), `auto` mode switches to the newest suitable release in the
/// proxy's list of toolchains (``newerToolchain(need:available:)``).
public enum ToolchainSelection {
    /// What the go command will do.
    public enum Decision: Sendable, Equatable {
        /// Run the installed go command: nothing to download.
        case local(reason: String)
        /// Download and run the toolchain of this name (`go1.22.3`).
        case download(name: String, reason: String)
        /// Switch to the newest suitable release at least `need`, chosen from
        /// the proxy's toolchain list.
        case newest(need: GoVersion, reason: String)
        /// Run this toolchain, found on PATH only (`GOTOOLCHAIN=path`): nothing to download.
        case pathOnly(name: String, reason: String)
        /// The setting or a file is not one the go command accepts (it fails too).
        case invalid(String)
    }

    /// The go and toolchain lines the go command reads at start, and where.
    public struct StartFile: Sendable, Equatable {
        public var path: String
        public var goLine: String?
        public var toolchainLine: String?

        public init(path: String, goLine: String?, toolchainLine: String?) {
            self.path = path
            self.goLine = goLine
            self.toolchainLine = toolchainLine
        }
    }

    /// Decides as the go command `localToolchain` (its `go env GOVERSION`)
    /// does under `GOTOOLCHAIN=setting`, reading `file` at start; `needed`
    /// is the highest go line of the main modules (a workspace's modules).
    public static func decide(setting: String, localToolchain: String, file: StartFile?, needed: GoVersion? = nil) -> Decision {
        guard let local = GoVersion(toolchain: localToolchain) else {
            return .invalid("the go command's version \(localToolchain) is not a release (a development build does not switch)")
        }
        // Toolchain switching came with Go 1.21: an older go command runs whatever the files say.
        guard local.isAtLeast(minor: 21) else { return .local(reason: "\(localToolchain) predates toolchain switching (Go 1.21)") }

        var name = localToolchain
        var minimum = local
        let mode: String
        switch setting {
        case "auto", "path":
            mode = setting
        case "":
            // A go command whose go.env lost the line: it runs itself.
            return .local(reason: "GOTOOLCHAIN is empty")
        default:
            let parts = setting.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)
            let given = String(parts[0])
            if given != "local" {
                guard let version = GoVersion(toolchain: given) else { return .invalid("invalid GOTOOLCHAIN \"\(setting)\"") }
                name = given
                minimum = version
            }
            if parts.count == 2 {
                guard parts[1] == "auto" || parts[1] == "path" else {
                    return .invalid("invalid GOTOOLCHAIN \"\(setting)\": only version suffixes are +auto and +path")
                }
                mode = String(parts[1])
            } else {
                mode = ""
            }
        }

        var reason = "GOTOOLCHAIN=\(setting)"
        if mode == "auto" || mode == "path", let file {
            if let line = file.toolchainLine, line != "default" {
                guard let version = GoVersion(toolchain: line), line.hasPrefix("go") || line.contains("-go") else {
                    return .invalid("invalid toolchain \"\(line)\" in \(file.path)")
                }
                if version > minimum {
                    name = line
                    minimum = version
                    reason = "the toolchain line in \(file.path)"
                }
            }
            if file.toolchainLine != "default", let line = file.goLine, let version = GoVersion(line), version > minimum {
                // A language version from 1.21 on names its first release, 1.N.0.
                name = "go" + line + (version.isLanguageVersion && version.isAtLeast(minor: 21) ? ".0" : "")
                minimum = version
                reason = "the go line in \(file.path)"
            }
        }
        if let needed, needed > minimum, mode == "auto" {
            return .newest(need: needed, reason: "a main module's go line (go \(needed.text)) above \(name)")
        }
        if name == localToolchain {
            return .local(reason: "\(localToolchain) satisfies the workspace (\(reason))")
        }
        guard name.hasPrefix("go1") || name.contains("-go1") else { return .invalid("invalid GOTOOLCHAIN \"\(name)\"") }
        if mode == "path" { return .pathOnly(name: name, reason: reason + "; GOTOOLCHAIN=\(setting) looks on PATH only") }
        return .download(name: name, reason: reason)
    }

    /// The release the go command switches to when it needs at least `need`
    /// (cmd/go's newerToolchain): among releases at least `need`, the latest
    /// patch of the newest language family, except that the latest patch of
    /// the family before the newest is preferred once the newest has a
    /// release (so 1.39.x over a fresh 1.40.0). `available` are Go versions
    /// (`1.22.3`), in any order.
    public static func newerToolchain(need: GoVersion, available: [GoVersion]) -> String? {
        var latest: GoVersion?
        for version in available.sorted(by: >) {
            if version < need { break }
            if let current = latest, current.language == version.language { continue }
            let newer = latest
            latest = version
            if let newer, !newer.isPrerelease { break }
        }
        return latest.map { "go" + $0.text }
    }
}

/// The module the go command downloads toolchains as: `golang.org/toolchain`
/// at `v0.0.1-<name>.<GOOS>-<GOARCH>` (`v0.0.1-go1.22.3.linux-amd64`).
public enum ToolchainModule {
    public static let path = "golang.org/toolchain"

    /// The module version of toolchain `name` for a platform (`linux-amd64`).
    public static func version(name: String, platform: String) -> String {
        "v0.0.1-\(name).\(platform)"
    }

    /// The Go version a module version stands for, whatever its platform
    /// (cmd/go's dlToGo: `v0.0.1-go1.22.3.windows-amd64` → 1.22.3); nil for a
    /// version that is not a toolchain's.
    public static func goVersion(of moduleVersion: String) -> GoVersion? {
        guard let dash = moduleVersion.firstIndex(of: "-") else { return nil }
        let rest = moduleVersion[moduleVersion.index(after: dash)...]
        guard let dot = rest.lastIndex(of: "."), rest[rest.index(after: dot)...].contains("-") else { return nil }
        var name = rest[..<dot]
        if name.hasPrefix("go") { name = name.dropFirst(2) }
        return GoVersion(String(name))
    }
}
