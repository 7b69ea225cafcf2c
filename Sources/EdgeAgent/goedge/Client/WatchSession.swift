import Logging
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// What `goedge watch` does with a folder where workspace files were saved:
/// read them, and unless they are mid-edit, have the agent prefetch for them.
///
/// A file that does not parse is reported once (until it parses again, or
/// fails differently), not on every save.
final class WatchSession {
    private var prefetcher: WorkspacePrefetch
    /// Whether the agent's refusal to prefetch for this user was logged already.
    private var fallbackLogged = false
    private let logger: Logger
    /// The folders watched, told to the agent with each prefetch (for `goedge status`).
    private let watchedFolders: [String]
    /// The problem last reported for each file.
    private var reported: [String: String] = [:]

    init(agent: AgentClient, watchedFolders: [String], logger: Logger) {
        prefetcher = WorkspacePrefetch(agent: agent)
        self.watchedFolders = watchedFolders
        self.logger = logger
    }

    func prefetch(_ folder: String) async {
        var files: WorkspaceFiles
        do {
            files = try WorkspaceReader.read([folder], from: "/")
            files.watchedFolders = watchedFolders
            files.goCommand = GoCommandProbe.facts()
        } catch {
            // Deleted or renamed away since it was saved: nothing to do.
            logger.debug("nothing to prefetch", metadata: ["folder": "\(folder)", "reason": "\(error)"])
            return
        }
        let problems = files.problems
        for file in files.files.map(\.path) where !problems.contains(where: { $0.file == file }) {
            reported.removeValue(forKey: file)
        }
        if !problems.isEmpty {
            for problem in problems where reported[problem.file] != problem.description {
                reported[problem.file] = problem.description
                logger.warning("\(problem) (prefetch waits for the next save)")
            }
            return
        }

        let started = ContinuousClock.now
        do {
            let summary = try await prefetcher.run(files) { notice in
                if !fallbackLogged { logger.notice("\(notice)") }
                fallbackLogged = true
            } onEvent: { _ in }
            let text = "prefetched \(folder): " + PrefetchProgress.describe(summary, duration: ContinuousClock.now - started)
                + (summary.toolchains ?? []).map { "; toolchain: " + $0 }.joined()
            if summary.failures.isEmpty {
                logger.notice("\(text)")
            } else {
                logger.warning("\(text); failures: \(summary.failures.joined(separator: "; "))")
            }
        } catch {
            logger.error("cannot prefetch \(folder): \(error)")
        }
    }
}
