import ArgumentParser
import Foundation
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// `goedge cache import [GOMODCACHE]`.
struct CacheImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring the modules a go command already downloaded ($GOMODCACHE/cache/download) into the cache.",
        discussion: """
            Every module version's .info, .mod and .zip is checked as a download is (and the zip \
            against the h1 hash in its .ziphash) and stored, so that they are not fetched again. \
            Files already cached are kept. GOMODCACHE defaults to $GOMODCACHE, else the first \
            $GOPATH entry's pkg/mod, else ~/go/pkg/mod. Exits 1 when any file failed its check.
            """
    )

    @OptionGroup var options: CacheOptions

    @Flag(name: .shortAndLong, help: "Print only the result.")
    var quiet = false

    @Argument(help: ArgumentHelp("The go command's module cache (GOMODCACHE).", valueName: "gomodcache"))
    var gomodcache: String?

    func run() async throws {
        let folder = gomodcache ?? Self.defaultModCache(ProcessInfo.processInfo.environment)
        let source: ModCacheImport
        do {
            source = try ModCacheImport(gomodcache: folder)
        } catch {
            throw CacheCommandRun.fail("\(error)")
        }
        let target = try await CacheCommandRun.target(options)
        defer { target.shutdown() }
        let progress = quiet ? nil : CountProgress(verb: "imported")
        let report: ImportReport
        switch target {
        case .agent(let client, _):
            report = await source.run(
                store: { resource, path, zipHash in try await Self.upload(resource, path, zipHash, to: client) },
                progress: { progress?.record(done: $0, of: $1) })
        case .folder(let administration):
            report = await source.run(
                store: { try await administration.storeImported($0, bytesAt: $1, zipHash: $2) },
                progress: { progress?.record(done: $0, of: $1) })
        }
        progress?.finish()
        print(
            "imported \(report.imported) files (\(ByteSize.format(report.bytes))) of \(report.versions) module versions; "
                + "\(report.alreadyCached) already cached, \(report.failures.count) failed")
        for failure in report.failures { print("  failed: " + failure) }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }

    static func defaultModCache(_ environment: [String: String]) -> String {
        if let modcache = environment["GOMODCACHE"], !modcache.isEmpty { return modcache }
        if let gopath = environment["GOPATH"]?.split(separator: ":").first, !gopath.isEmpty { return gopath + "/pkg/mod" }
        return (environment["HOME"] ?? "/") + "/go/pkg/mod"
    }

    /// Sends one file to the agent, which checks and stores it.
    static func upload(_ resource: ProxyResource, _ path: String, _ zipHash: String?, to client: AgentClient) async throws -> Bool {
        guard let target = resource.importPath else { throw AdministrationError("\(resource) cannot be imported") }
        var url = "/-/api/cache/import/" + target
        if let zipHash {
            url += "/" + zipHash.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "+", with: "-")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let answer = try await client.call(url, body: Array(bytes), contentType: "application/octet-stream")
        guard answer.status == 200 else {
            throw AdministrationError(answer.text)
        }
        return try JSONDecoder().decode(ControlMessages.Imported.self, from: Data(answer.body)).stored
    }
}
