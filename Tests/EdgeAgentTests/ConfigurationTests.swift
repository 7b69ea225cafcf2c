import Foundation
import Testing
import TestSupport

@testable import AgentServer
@testable import goedge
@testable import GoedgeConfiguration

@Suite struct ConfigurationTests {
    private let folder = TemporaryDirectory()

    private func layers(
        files: [(String, String)] = [], environment: [String: String] = [:], options: [String: RawSetting] = [:]
    ) throws -> ConfigurationLayers {
        var paths: [String] = []
        for (name, text) in files {
            try folder.write(name, text)
            paths.append(folder.path + "/" + name)
        }
        return try ConfigurationLayers.load(files: paths, environment: environment, options: options)
    }

    /// The problems found, with the temporary folder left out of file names.
    private func problems(
        files: [(String, String)] = [], environment: [String: String] = [:], options: [String: RawSetting] = [:]
    ) -> [String] {
        do {
            _ = try layers(files: files, environment: environment, options: options)
            return []
        } catch let error as ConfigurationError {
            return error.problems.map { $0.replacingOccurrences(of: folder.path + "/", with: "") }
        } catch {
            return ["\(error)"]
        }
    }

    @Test func laterLayersWinAndSayWhereTheyCameFrom() throws {
        let loaded = try layers(
            files: [
                ("system.toml", "max-cache-size = \"1GiB\"\nlog-level = \"warning\"\nmetadata-ttl = \"1m\"\nupstream = \"https://a.example\"\n"),
                ("user.toml", "# mine\n\nmax-cache-size = \"2GiB\"\nlog-level = \"error\"\nmetadata-ttl = \"2m\"\n"),
            ],
            environment: ["GOEDGE_LOG_LEVEL": "debug", "GOEDGE_METADATA_TTL": "3m", "GOEDGE_UNRELATED": "x"],
            options: ["metadata-ttl": .string("4m")])
        #expect(loaded.string(Settings.upstream) == "https://a.example")
        #expect(loaded.value(Settings.upstream)?.source.description.hasSuffix("system.toml:4") == true)
        #expect(loaded.size(Settings.maxCacheSize) == ByteSize(bytes: 2 << 30))
        #expect(loaded.value(Settings.maxCacheSize)?.source.description.hasSuffix("user.toml:3") == true)
        #expect(loaded.string(Settings.logLevel) == "debug")
        #expect(loaded.value(Settings.logLevel)?.source == .environment("GOEDGE_LOG_LEVEL"))
        #expect(loaded.duration(Settings.metadataTTL) == .seconds(240))
        #expect(loaded.value(Settings.metadataTTL)?.source == .option("--metadata-ttl"))
        #expect(loaded.value(Settings.listen) == nil)
        #expect(loaded.filesRead.count == 2)
    }

    @Test func aMissingFileIsSkipped() throws {
        let loaded = try ConfigurationLayers.load(files: ["/nonexistent/goedge.toml"], environment: [:], options: [:])
        #expect(loaded.filesRead.isEmpty)
    }

    @Test func everyProblemNamesTheFileLineAndKey() {
        let found = problems(files: [
            ("bad.toml", """
                # a comment
                max-cache-size = -1
                metadata-ttl = 30
                bogus = "x"
                Log_Level = "info"
                listen = "nowhere"
                upstream = "ftp://proxy.example"
                allow-remote = "yes"
                connect-timeout = "0"

                [serve]
                listen = "127.0.0.1:1"
                """)
        ])
        #expect(found == [
            "bad.toml:2: max-cache-size: must not be negative",
            "bad.toml:3: metadata-ttl: expected a duration such as \"30s\", \"5m\" or \"1h30m\" (at most 100 years), found the number 30",
            "bad.toml:4: bogus: unknown key (see goedge.toml(5) for the keys)",
            "bad.toml:5: Log_Level: unknown key (did you mean log-level?)",
            "bad.toml:6: listen: expected an address such as \"127.0.0.1:7179\", \"[::1]:7179\" or \"unix:/run/goedge.sock\", found \"nowhere\"",
            "bad.toml:7: upstream: invalid upstream \"ftp://proxy.example\": only http:// and https:// upstreams are supported",
            "bad.toml:8: allow-remote: expected true or false, found the text \"yes\"",
            "bad.toml:9: connect-timeout: must be more than 0",
            "bad.toml:11: serve: sections are not used; write the settings at the top of the file",
        ])
    }

    @Test func aSyntaxErrorNamesLineAndColumn() {
        let found = problems(files: [("broken.toml", "log-level = \"info\"\nlisten = \"127.0.0.1:7179\n")])
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("broken.toml:2:") == true, "\(found)")
    }

    @Test func variablesAndOptionsAreCheckedToo() {
        #expect(problems(environment: ["GOEDGE_MAX_CACHE_SIZE": "lots"]) == [
            "GOEDGE_MAX_CACHE_SIZE: expected a size such as \"512MiB\" or \"10GiB\", found \"lots\""
        ])
        #expect(problems(options: ["max-cache-size": .string("1KiB")]) == ["--max-cache-size: must be at least 64KiB"])
        #expect(problems(environment: ["GOEDGE_ALLOW_REMOTE": "maybe"]).count == 1)
    }

    @Test func buildsTheAgentsConfiguration() throws {
        let loaded = try layers(files: [("goedge.toml", "cache-dir = \"~/cache\"\nidle-timeout = \"0\"\nmax-cache-size = 1048576\n")])
        let configuration = try AgentConfiguration(layers: loaded, environment: ["HOME": "/home/dev"])
        #expect(configuration.cacheDirectory == "/home/dev/cache")
        #expect(configuration.idleTimeout == .never)
        #expect(configuration.maxCacheSize.bytes == 1 << 20)
        #expect(configuration.listen == AgentConfiguration.defaultListen)
    }

    @Test func aReachableAddressMustBeAskedFor() throws {
        let remote = try layers(files: [("goedge.toml", "listen = \"0.0.0.0:7179\"\n")])
        #expect(throws: ConfigurationError.self) { try AgentConfiguration(layers: remote, environment: [:]) }
        let allowed = try layers(files: [("goedge.toml", "listen = \"0.0.0.0:7179\"\nallow-remote = true\n")])
        #expect(try AgentConfiguration(layers: allowed, environment: [:]).listen.isLocalOnly == false)
    }

    /// The packaged /etc/goedge/goedge.toml documents every key with a
    /// working example: the file as shipped is valid, and so is each example
    /// line once uncommented.
    @Test func thePackagedFileDocumentsEveryKeyWithWorkingExamples() throws {
        let text = try String(contentsOfFile: Paths.packageRoot + "/packaging/goedge.toml", encoding: .utf8)
        #expect(try ConfigurationFile.parse(text, path: "goedge.toml").isEmpty)
        let examples = text.split(separator: "\n").filter { line in
            Settings.all.contains { line.hasPrefix("# \($0.name) = ") }
        }
        for setting in Settings.all {
            #expect(examples.contains { $0.hasPrefix("# \(setting.name) = ") }, "no example for \(setting.name)")
        }
        for example in examples {
            let entries = try ConfigurationFile.parse(String(example.dropFirst(2)) + "\n", path: "example")
            #expect(entries.count == 1, "\(example)")
        }
    }

    @Test func renderedConfigurationIsValidToml() throws {
        let loaded = try layers(
            files: [("goedge.toml", "upstream = \"https://a.example|https://b.example\"\n")],
            environment: ["GOEDGE_MAX_CACHE_SIZE": "20GiB"])
        let rendered = ConfigCommand.render(loaded, environment: ["HOME": "/home/dev"])
        #expect(rendered.contains("# GOEDGE_MAX_CACHE_SIZE"))
        #expect(rendered.contains("# default"))
        // What `goedge config` prints can be saved as a configuration file.
        let reparsed = try ConfigurationFile.parse(rendered, path: "rendered")
        #expect(reparsed["upstream"]?.value == .string("https://a.example|https://b.example"))
        #expect(reparsed["max-cache-size"]?.value == .string("20GiB"))
    }
}
