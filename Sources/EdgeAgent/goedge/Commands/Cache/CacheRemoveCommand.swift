import ArgumentParser
import Foundation
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// `goedge cache rm MODULE[@VERSION]…`.
struct CacheRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a module version, or a module with all its versions, from the cache.",
        discussion: """
            MODULE@VERSION removes that version's .info, .mod and .zip; MODULE alone removes every \
            version and the module's version list, @latest and query answers. The next request \
            fetches them again from the upstream. Exits 1 when nothing was cached for an argument.
            """
    )

    @OptionGroup var options: CacheOptions

    @Argument(help: ArgumentHelp("module@version, or module for all its versions.", valueName: "module[@version]"))
    var modules: [String]

    func validate() throws {
        guard !modules.isEmpty else { throw ValidationError("name a module or module@version to remove") }
    }

    func run() async throws {
        let target = try await CacheCommandRun.target(options)
        defer { target.shutdown() }
        var missing: [String] = []
        for argument in modules {
            let parts = argument.split(separator: "@", maxSplits: 1).map(String.init)
            let request = ControlMessages.Remove(module: parts[0], version: parts.count == 2 ? parts[1] : nil)
            let report: RemovalReport
            do {
                switch target {
                case .agent(let client, _):
                    report = try await CacheTarget.decode(RemovalReport.self, from: client, "/-/api/cache/remove", body: request)
                case .folder(let administration):
                    report = try administration.remove(module: request.module, version: request.version)
                }
            } catch {
                throw CacheCommandRun.fail("\(argument): \(error)")
            }
            if report.removed.isEmpty { missing.append(argument) }
            for name in report.removed { print("removed \(name)") }
        }
        if !missing.isEmpty {
            throw CacheCommandRun.fail("nothing cached for \(missing.joined(separator: ", "))")
        }
    }
}
