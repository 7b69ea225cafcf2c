import Foundation
import Testing
import TestSupport

extension Integration {
    /// goedge.toml, GOEDGE_* and options as a user meets them: `goedge config`,
    /// `goedge config --check`, and serve refusing a broken configuration.
    @Suite struct ConfigurationCommands {
        static let bad = "# broken\nmax-cache-size = \"-3GiB\"\nbogus = true\n"

        @Test func serveRefusesABrokenConfigurationWithStatus78() throws {
            let folder = TemporaryDirectory()
            try folder.write("goedge.toml", Self.bad)
            let result = try ChildProcess.run(
                Paths.goedge, ["serve", "--config", folder.path + "/goedge.toml", "--cache-dir", folder.path + "/cache"],
                timeout: .seconds(20))
            #expect(result.status == 78)
            #expect(result.errorOutput.contains("\(folder.path)/goedge.toml:2: max-cache-size: expected a size"), "\(result)")
            #expect(result.errorOutput.contains("\(folder.path)/goedge.toml:3: bogus: unknown key"))
            #expect(!result.errorOutput.contains("listening"))
            #expect(!FileManager.default.fileExists(atPath: folder.path + "/cache"), "it started before refusing")

            let variable = try ChildProcess.run(
                Paths.goedge, ["serve", "--config", "/dev/null", "--cache-dir", folder.path + "/cache"],
                environment: ["GOEDGE_IDLE_TIMEOUT": "soon", "PATH": "/usr/bin:/bin"], timeout: .seconds(20))
            #expect(variable.status == 78)
            #expect(variable.errorOutput.contains("GOEDGE_IDLE_TIMEOUT: expected a duration"))
        }

        @Test func configShowsWhereEachValueComesFromAndChecksFiles() throws {
            let folder = TemporaryDirectory()
            try folder.write("goedge.toml", "# site settings\nupstream = \"https://athens.example.com|https://proxy.golang.org\"\n")
            try folder.write("bad.toml", Self.bad)
            let shown = try ChildProcess.run(
                Paths.goedge, ["config", "--config", folder.path + "/goedge.toml", "--max-cache-size", "20GiB"],
                environment: ["GOEDGE_LOG_LEVEL": "notice", "HOME": folder.path, "PATH": "/usr/bin:/bin"])
            #expect(shown.status == 0, "\(shown)")
            let lines = shown.output.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("upstream = \"https://athens.example.com|https://proxy.golang.org\"") && $0.hasSuffix("# \(folder.path)/goedge.toml:2") })
            #expect(lines.contains { $0.hasPrefix("log-level = \"notice\"") && $0.hasSuffix("# GOEDGE_LOG_LEVEL") })
            #expect(lines.contains { $0.hasPrefix("max-cache-size = \"20GiB\"") && $0.hasSuffix("# --max-cache-size") })
            #expect(lines.contains { $0.hasPrefix("# cache-dir = \"\(folder.path)/.cache/goedge\"") && $0.hasSuffix("# default") })

            let good = try ChildProcess.run(Paths.goedge, ["config", "--check", folder.path + "/goedge.toml"])
            #expect(good.status == 0 && good.output.contains("ok"))
            let broken = try ChildProcess.run(Paths.goedge, ["config", "--check", folder.path + "/bad.toml"])
            #expect(broken.status == 78)
            #expect(broken.errorOutput.contains("bad.toml:3: bogus: unknown key"))
            let packaged = try ChildProcess.run(Paths.goedge, ["config", "--check", Paths.packageRoot + "/packaging/goedge.toml"])
            #expect(packaged.status == 0, "\(packaged)")
        }

        @Test func serveTakesItsSettingsFromTheFileAndTheEnvironment() throws {
            let upstream = try GoProxyFixture()
            let folder = TemporaryDirectory()
            try folder.write("goedge.toml", """
                upstream = "\(upstream.url)"
                cache-dir = "\(folder.path)/cache"
                listen = "127.0.0.1:0"
                log-level = "warning"
                """)
            var environment = ProcessInfo.processInfo.environment
            environment["GOEDGE_LOG_LEVEL"] = "info"
            let agent = try ChildProcess(Paths.goedge, ["serve", "--config", folder.path + "/goedge.toml"], environment: environment)
            let line = try agent.waitForLine(containing: "listening", inErrorOutput: true)
            let port = Int(line.components(separatedBy: "urls=http://127.0.0.1:").last!.prefix { $0.isNumber })!
            #expect(try RawHTTP.get(port: port, "/example.com/hello/@v/list").status == 200)
            #expect(try upstream.requests(for: "/example.com/hello/@v/list") == 1)
            #expect(FileManager.default.fileExists(atPath: folder.path + "/cache/data"))
            agent.signal(SIGTERM)
            #expect(agent.waitForExit() == 0)
            // The variable beat the file: info level logs each request.
            #expect(agent.errorOutput.contains("GET /example.com/hello/@v/list 200"))
        }
    }
}

extension Integration.ConfigurationCommands {
    /// What `goedge config` prints can be copied into goedge.toml as is:
    /// every line, uncommented, is a setting the file takes.
    @Test func everyPrintedLineIsValidInGoedgeToml() throws {
        let printed = try ChildProcess.run(Paths.goedge, ["config", "--config", "/dev/null"])
        #expect(printed.status == 0, "\(printed)")
        let lines = printed.output.split(separator: "\n").dropFirst().map { line in
            String(line.dropFirst(line.hasPrefix("# ") ? 2 : 0))
        }
        #expect(lines.count >= 20)
        let folder = TemporaryDirectory()
        try folder.write("copied.toml", lines.joined(separator: "\n") + "\n")
        let checked = try ChildProcess.run(Paths.goedge, ["config", "--check", folder.path + "/copied.toml"])
        #expect(checked.status == 0, "\(checked)\n\(lines.joined(separator: "\n"))")
    }
}
