/// What the client knows of the go command the workspace's builds run:
/// enough to tell which Go toolchain that go command will switch to (and
/// download through the agent), and where it will check it. `goedge
/// prefetch` and `goedge watch` ask the go command on their PATH.
public struct GoCommandFacts: Sendable, Codable, Equatable {
    /// Its own version, `go env GOVERSION` under `GOTOOLCHAIN=local` (`go1.27.3`).
    public var version: String
    /// `go env GOTOOLCHAIN` (`auto`, `local`, `go1.25.0+auto`…), from the
    /// environment, `go env -w` or its GOROOT's go.env.
    public var toolchainSetting: String
    /// The platform its toolchains are for: `GOHOSTOS-GOHOSTARCH` (`linux-amd64`).
    public var platform: String
    /// `go env GOSUMDB`: the checksum database it checks a toolchain against.
    public var checksumDatabase: String

    public init(version: String, toolchainSetting: String, platform: String, checksumDatabase: String) {
        self.version = version
        self.toolchainSetting = toolchainSetting
        self.platform = platform
        self.checksumDatabase = checksumDatabase
    }
}
