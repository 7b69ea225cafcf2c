import Foundation

/// Runs the real go command the way a developer's machine would, but sealed
/// off: its own HOME, GOPATH and module cache, one GOPROXY, one GOSUMDB.
public struct GoCommand: Sendable {
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
        ]
        environment.merge(extraEnvironment) { $1 }
        return environment
    }

    /// Runs `go ARGUMENTS` in `directory`.
    public func run(_ arguments: [String], in directory: String, timeout: Duration = .seconds(120)) throws -> CommandResult {
        guard let go = which("go") else { throw TestFailure("the go command is missing: apt-get install golang-go") }
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
