import Foundation
import Testing
import TestSupport

extension Integration {
    /// Go toolchains (Go 1.21+) through goedge: the go command downloads the
    /// toolchain a go.mod asks for as the module golang.org/toolchain, checked
    /// against the checksum database. The fixture serves cmd/go's fake
    /// toolchains, whose bin/go is a script saying which it is.
    @Suite(.enabled(if: GoCommand.isAtLeast(minor: 21), "toolchain switching is Go 1.21+"))
    struct Toolchains {
        static var platform: String {
            var name = utsname()
            uname(&name)
            let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return "linux-" + (["x86_64": "amd64", "aarch64": "arm64"][machine] ?? machine)
        }

        /// The go command as a CI job runs it: switching toolchains as its
        /// files say, checking them against the fixture's checksum database.
        static func goCommand(_ agent: AgentProcess, _ upstream: GoProxyFixture, home: String, toolchain: String = "auto") -> GoCommand {
            var go = GoCommand(proxy: agent.url, sumdb: upstream.sumdbKey, home: home)
            go.extraEnvironment["GOTOOLCHAIN"] = toolchain
            return go
        }

        /// `goedge prefetch` with the go command the tests run first on PATH,
        /// in the environment a job gives both.
        static func prefetch(_ agent: AgentProcess, _ upstream: GoProxyFixture, _ folder: String, home: String) throws -> CommandResult {
            let goFolder = URL(fileURLWithPath: GoCommand.executable!).deletingLastPathComponent().path
            return try ChildProcess.run(
                Paths.goedge, ["prefetch", "--config", "/dev/null", "--agent", agent.url, "--cache-dir", agent.cacheDirectory, folder],
                environment: [
                    "PATH": goFolder + ":/usr/bin:/bin", "HOME": home, "GOTOOLCHAIN": "auto", "GOSUMDB": upstream.sumdbKey,
                    "GOENV": "off", "GOTELEMETRY": "off", "GOMODCACHE": home + "/gopath/pkg/mod", "GOPATH": home + "/gopath",
                ])
        }

        /// After `goedge prefetch`, the go command's switch to the toolchain
        /// the go.mod names (its download, its checksum database lookup and
        /// tiles) makes no upstream request, and runs that toolchain.
        @Test func afterPrefetchTheSwitchToTheToolchainMakesNoUpstreamRequest() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url)
            let folder = TemporaryDirectory()
            try folder.write("app/go.mod", "module example.org/app\n\ngo 1.21\n\ntoolchain go1.999testmod\n")

            let prefetched = try Self.prefetch(agent, upstream, folder.path + "/app", home: folder.path + "/prefetch-home")
            #expect(prefetched.status == 0, "\(prefetched)")
            #expect(
                prefetched.output.contains(
                    "toolchain: warmed go1.999testmod for \(Self.platform) (the toolchain line in \(folder.path)/app/go.mod)"),
                "\(prefetched)")

            try upstream.resetCounts()
            let go = Self.goCommand(agent, upstream, home: folder.path + "/home")
            let switched = try go.run(["version"], in: folder.path + "/app")
            #expect(switched.status == 0, "\(switched)")
            #expect(switched.output.contains("go1.999testmod here!"), "\(switched)")
            #expect(switched.errorOutput.contains("go: downloading go1.999testmod"), "\(switched)")
            #expect(try upstream.requestCounts() == [:], "the switch reached the upstream")
        }

        /// `goedge watch`: saving a go.mod that names a newer toolchain warms
        /// it, so the switch the next go command makes stays on this host.
        @Test func savingAGoModWithANewerToolchainWarmsIt() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url)
            let root = TemporaryDirectory()
            let goFolder = URL(fileURLWithPath: GoCommand.executable!).deletingLastPathComponent().path
            let watch = try Watch.start(
                agent: agent, [root.path],
                extraEnvironment: [
                    "PATH": goFolder + ":/usr/bin:/bin", "HOME": root.path + "/watch-home", "GOTOOLCHAIN": "auto",
                    "GOSUMDB": upstream.sumdbKey, "GOENV": "off", "GOTELEMETRY": "off",
                ])
            try FileManager.default.createDirectory(atPath: root.path + "/app", withIntermediateDirectories: true)
            try Watch.saveByRename("module example.org/app\n\ngo 1.21\n\ntoolchain go1.999testmod\n", to: root.path + "/app/go.mod")
            #expect(
                eventually(timeout: .seconds(30)) { watch.errorOutput.contains("toolchain: warmed go1.999testmod for \(Self.platform)") },
                "\(watch.errorOutput)")

            try upstream.resetCounts()
            let switched = try Self.goCommand(agent, upstream, home: root.path + "/home").run(["version"], in: root.path + "/app")
            #expect(switched.status == 0 && switched.output.contains("go1.999testmod here!"), "\(switched)")
            #expect(try upstream.requestCounts() == [:], "the switch reached the upstream")
            watch.signal(SIGTERM)
            #expect(watch.waitForExit() != nil)
            #expect(agent.terminate() == 0)
        }

        /// Without a prefetch the switch goes through goedge too, and a
        /// second runner's switch is served from goedge's cache.
        @Test func theSwitchIsServedAndCachedLikeAnyModule() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url)
            let folder = TemporaryDirectory()
            try folder.write("app/go.mod", "module example.org/app\n\ngo 1.21\n\ntoolchain go1.999testmod\n")
            let first = try Self.goCommand(agent, upstream, home: folder.path + "/one").run(["version"], in: folder.path + "/app")
            #expect(first.status == 0 && first.output.contains("go1.999testmod here!"), "\(first)")
            let zip = "/golang.org/toolchain/@v/v0.0.1-go1.999testmod.\(Self.platform).zip"
            #expect(try upstream.requests(for: zip) == 1)
            let second = try Self.goCommand(agent, upstream, home: folder.path + "/two").run(["version"], in: folder.path + "/app")
            #expect(second.status == 0 && second.output.contains("go1.999testmod here!"), "\(second)")
            #expect(try upstream.requests(for: zip) == 1)
        }

        /// The LRU treats a toolchain like any file, by when it was last
        /// used: the next small zips do not push it out, a newer toolchain
        /// that does not fit beside it does, and one larger than the whole
        /// cache is served without being kept (nothing else is evicted for it).
        @Test func aCacheTooSmallForTwoToolchainsKeepsTheOneLastUsed() throws {
            let upstream = try GoProxyFixture()
            let agent = try AgentProcess(upstream: upstream.url, arguments: ["--max-cache-size", "3500KiB", "--no-read-ahead"])
            let folder = TemporaryDirectory()
            try folder.write("app/go.mod", "module example.org/app\n\ngo 1.21\n")
            func switchTo(_ name: String, home: String) throws {
                let ran = try Self.goCommand(agent, upstream, home: folder.path + "/" + home, toolchain: name).run(["version"], in: folder.path + "/app")
                #expect(ran.status == 0 && ran.output.contains("\(name) here!"), "\(ran)")
            }
            func zip(_ name: String) -> String { "/golang.org/toolchain/@v/v0.0.1-\(name).\(Self.platform).zip" }

            try switchTo("go1.990.0", home: "a")
            // Six small modules after it (40 KiB each): the toolchain stays.
            let small = try Self.goCommand(agent, upstream, home: folder.path + "/small").run(
                ["mod", "download"] + (0..<6).map { "example.com/filler\($0)@v1.0.0" }, in: folder.path + "/app")
            #expect(small.status == 0, "\(small)")
            try switchTo("go1.990.0", home: "b")
            #expect(try upstream.requests(for: zip("go1.990.0")) == 1)

            // A second toolchain does not fit beside the first: eviction takes the least recently
            // used, the small zips and then the first toolchain.
            try switchTo("go1.991.0", home: "c")
            try switchTo("go1.991.0", home: "d")
            #expect(try upstream.requests(for: zip("go1.991.0")) == 1)
            try switchTo("go1.990.0", home: "e")
            #expect(try upstream.requests(for: zip("go1.990.0")) == 2)

            // Larger than the whole cache (5 MiB): served, not kept, and nothing evicted for it.
            try switchTo("go1.992.0", home: "f")
            try switchTo("go1.992.0", home: "g")
            #expect(try upstream.requests(for: zip("go1.992.0")) == 2)
            try switchTo("go1.990.0", home: "h")
            #expect(try upstream.requests(for: zip("go1.990.0")) == 2)
            #expect(agent.terminate() == 0)
        }
    }
}
