import ArgumentParser

/// `goedge cache …`: see and manage what the cache holds.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "See and manage what the cache holds.",
        discussion: """
            Each subcommand works through the running agent (--agent, default the configured listen \
            address) or, when none answers, on the cache folder itself (--cache-dir, default the \
            cache-dir setting), holding the folder's lock so that an agent starting meanwhile waits.
            """,
        subcommands: [
            CacheListCommand.self, CacheRemoveCommand.self, CachePruneCommand.self, CacheVerifyCommand.self,
            CacheImportCommand.self,
        ]
    )
}

/// Runs a cache command's work against its target, turning failures into a message and exit status 1.
enum CacheCommandRun {
    static func target(_ options: CacheOptions) async throws -> CacheTarget {
        let layers = try options.layers()
        do {
            return try await CacheTarget.resolve(layers, folderGiven: options.cacheDir != nil)
        } catch {
            throw fail("\(error)")
        }
    }

    static func fail(_ message: String, status: Int32 = 1) -> ExitCode {
        FileHandle.standardError.write(Data("goedge: \(message)\n".utf8))
        return ExitCode(status)
    }
}

import Foundation
import AgentServer
import GoedgeConfiguration
