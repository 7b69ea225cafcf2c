import ArgumentParser
import Foundation
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// `goedge prefetch [PATH…]`: warm the agent's cache with a workspace's
/// whole module graph, as one CI step before the build.
struct PrefetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prefetch",
        abstract: "Warm the agent's cache with everything a workspace needs (a CI step before go build).",
        discussion: """
            Sends the workspace's go.mod, go.work and go.sum files to the running agent, which \
            fetches every module version go.sum lists (checked against its hashes) and walks the \
            module graph for requirements go.sum does not list yet. The agent does this for root, \
            its own user and holders of its control token; for anyone else goedge prefetch walks the \
            graph itself and fetches each file through the agent's module protocol, as the go command \
            would (saying so on standard error). PATH is a go.mod, go.work, \
            go.sum or go.work.sum, or a folder holding them (default: the current folder). Shows \
            progress on standard error (a bar on a terminal, a line every few seconds otherwise) and \
            prints a summary. The Go toolchain the go command on PATH will switch to (Go 1.21+: \
            GOTOOLCHAIN and the go and toolchain lines) is warmed too, and the summary says which. Exits 1 when anything failed, with the failures listed, and 2 when the \
            agent cannot be reached.
            """
    )

    @OptionGroup var configurationFile: ConfigurationOptions
    @OptionGroup var client: ClientOptions

    @Flag(name: .shortAndLong, help: "Print only the summary and the failures.")
    var quiet = false

    @Option(help: ArgumentHelp(
        "The agent's cache folder, whose control token goedge prefetch sends when this user can read it. Default: the cache-dir setting.",
        valueName: "dir"))
    var cacheDir: String?

    @Argument(help: ArgumentHelp("go.mod, go.work, go.sum or go.work.sum files, or folders holding them.", valueName: "path"))
    var paths: [String] = []

    func run() async throws {
        var given = client.given
        if let cacheDir { given[Settings.cacheDir.name] = Settings.cacheDir.value(fromText: cacheDir) }
        let layers = try configurationFile.load(options: given)
        var files: WorkspaceFiles
        do {
            files = try WorkspaceReader.read(paths, from: FileManager.default.currentDirectoryPath)
        } catch {
            throw ValidationError("\(error)")
        }
        files.goCommand = GoCommandProbe.facts()
        let progress = quiet ? nil : PrefetchProgress.forStandardError()
        var prefetch = WorkspacePrefetch(agent: ClientOptions.agentClient(layers))
        defer { prefetch.agent.shutdown() }
        let started = ContinuousClock.now
        let summary: PrefetchSummary
        do {
            summary = try await prefetch.run(files) { notice in
                if !quiet { FileHandle.standardError.write(Data("goedge prefetch: \(notice)\n".utf8)) }
            } onEvent: {
                progress?.record($0)
            }
        } catch {
            FileHandle.standardError.write(Data("goedge prefetch: \(error)\n".utf8))
            throw ExitCode(2)
        }
        print("prefetched " + PrefetchProgress.describe(summary, duration: ContinuousClock.now - started))
        if files.goCommand == nil {
            print("toolchain: none considered (no go command on PATH answered go env)")
        }
        for line in summary.toolchains ?? [] { print("toolchain: " + line) }
        guard summary.failures.isEmpty else {
            print("failures:")
            for failure in summary.failures { print("  " + failure) }
            throw ExitCode(1)
        }
    }
}
