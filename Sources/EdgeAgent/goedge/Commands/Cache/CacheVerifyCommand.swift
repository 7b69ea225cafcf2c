import ArgumentParser
import Foundation
import Synchronization
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// `goedge cache verify`.
struct CacheVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every cache entry again and remove the damaged ones.",
        discussion: """
            Checks what a download is checked for before it is stored (a zip's structure, a go.mod's \
            and an .info's form, sizes) and a zip against its h1 hash where one is known (from a \
            go.sum at prefetch, or a .ziphash at import). Damaged entries are listed and removed; the \
            next request fetches them again. Exits 1 when any was damaged.
            """
    )

    @OptionGroup var options: CacheOptions

    @Flag(name: .shortAndLong, help: "Print only the result.")
    var quiet = false

    func run() async throws {
        let target = try await CacheCommandRun.target(options)
        defer { target.shutdown() }
        let progress = quiet ? nil : CountProgress(verb: "verified")
        let report: VerifyReport
        switch target {
        case .agent(let client, _):
            let final = Mutex<VerifyReport?>(nil)
            do {
                let answer = try await client.stream("/-/api/cache/verify", body: Array("{}".utf8)) { line in
                    guard let event = try? JSONDecoder().decode(ControlMessages.VerifyProgress.self, from: Data(line)) else { return }
                    if let report = event.report {
                        final.withLock { $0 = report }
                    } else {
                        progress?.record(done: event.checked, of: event.total)
                    }
                }
                guard answer.status == 200 else {
                    throw CacheCommandRun.fail("the agent answered \(answer.status): \(answer.text)")
                }
            } catch let failure as AgentClient.Failure {
                throw CacheCommandRun.fail("\(failure)")
            }
            guard let result = final.withLock({ $0 }) else { throw CacheCommandRun.fail("the agent stopped before the check was done") }
            report = result
        case .folder(let administration):
            report = CacheVerifier(store: administration.store).run { progress?.record(done: $0, of: $1) }
        }
        progress?.finish()
        print("checked \(report.checked) entries (\(ByteSize.format(report.bytes))): \(report.damaged.count) damaged, \(report.removed) removed")
        for line in report.damaged { print("  damaged: " + line) }
        if !report.damaged.isEmpty { throw ExitCode(1) }
    }
}
