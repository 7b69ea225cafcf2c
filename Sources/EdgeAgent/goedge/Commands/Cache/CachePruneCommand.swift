import ArgumentParser
import Foundation
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// `goedge cache prune --to SIZE | --older-than DURATION`.
struct CachePruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove least recently used module versions down to a size, or those unused for a time.",
        discussion: "With both options, entries unused for the duration go first, then more until the size is reached."
    )

    @OptionGroup var options: CacheOptions

    @Option(help: ArgumentHelp("Evict least recently used entries until the cache uses at most this much, such as 2GiB.", valueName: "size"))
    var to: String?

    @Option(help: ArgumentHelp("Remove entries no client asked for in this long, such as 30d or 12h.", valueName: "duration"))
    var olderThan: String?

    func validate() throws {
        guard to != nil || olderThan != nil else { throw ValidationError("say how far to prune: --to SIZE or --older-than DURATION") }
        if let to, ByteSize(parsing: to) == nil { throw ValidationError("--to: \"\(to)\" is not a size such as 512MiB or 10GiB") }
        if let olderThan, DurationText.parse(olderThan) == nil {
            throw ValidationError("--older-than: \"\(olderThan)\" is not a duration such as 12h or 30d")
        }
    }

    func run() async throws {
        let size = to.flatMap(ByteSize.init(parsing:))?.bytes
        let age = olderThan.flatMap(DurationText.parse)
        let target = try await CacheCommandRun.target(options)
        defer { target.shutdown() }
        let report: RemovalReport
        switch target {
        case .agent(let client, _):
            do {
                report = try await CacheTarget.decode(
                    RemovalReport.self, from: client, "/-/api/cache/prune",
                    body: ControlMessages.Prune(toBytes: size, olderThanSeconds: age.map { $0.components.seconds }))
            } catch {
                throw CacheCommandRun.fail("\(error)")
            }
        case .folder(let administration):
            report = administration.prune(to: size, olderThan: age)
        }
        print("removed \(report.removed.count) entries, freed \(ByteSize.format(report.freedBytes))")
    }
}
