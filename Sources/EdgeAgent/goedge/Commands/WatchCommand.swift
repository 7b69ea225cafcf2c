import ArgumentParser
import Foundation
import Logging
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration
import FolderWatch

/// `goedge watch [FOLDER…]`: prefetch whenever a go.mod, go.work or go.sum
/// is saved below the folders.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Prefetch every time a go.mod, go.work or go.sum is saved below some folders.",
        discussion: """
            Watches the folders recursively with inotify (skipping .git, vendor, node_modules and \
            the cache folder) and, a moment after a go.mod, go.work or go.sum was saved there, asks \
            the agent to prefetch that workspace, so the next go build finds every module on this \
            host. It holds no cache and uses no CPU while nothing changes; the agent may exit when \
            idle meanwhile, and under socket activation the next request starts it again. FOLDER \
            defaults to the watch-folders setting. A file that does not parse (saved mid-edit) is \
            reported once and tried again when saved next.
            """
    )

    @OptionGroup var configurationFile: ConfigurationOptions
    @OptionGroup var client: ClientOptions

    @Option(help: ArgumentHelp(Settings.logLevel.help, valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("The cache folder, never watched. Default: the cache-dir setting.", valueName: "dir"))
    var cacheDir: String?

    @Argument(help: ArgumentHelp("Folders to watch (default: the watch-folders setting).", valueName: "folder"))
    var folders: [String] = []

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var given = client.given
        if let logLevel { given[Settings.logLevel.name] = Settings.logLevel.value(fromText: logLevel) }
        if let cacheDir { given[Settings.cacheDir.name] = Settings.cacheDir.value(fromText: cacheDir) }
        let layers = try configurationFile.load(options: given)
        let level = layers.string(Settings.logLevel).flatMap(Logger.Level.init(rawValue:)) ?? .info
        let style = AgentLogHandler.style(environment: environment)
        LoggingSystem.bootstrap { _ in AgentLogHandler(level: level, style: style) }
        let logger = Logger(label: "goedge-watch")

        let home = environment["HOME"] ?? "/"
        let named = folders.isEmpty ? (layers.strings(Settings.watchFolders) ?? []) : folders
        guard !named.isEmpty else {
            throw ValidationError("name the folders to watch, or set watch-folders in goedge.toml")
        }
        let current = FileManager.default.currentDirectoryPath
        let roots = named.map { folder in
            let expanded = folder == "~" ? home : folder.hasPrefix("~/") ? home + folder.dropFirst(1) : folder
            return expanded.hasPrefix("/") ? expanded : current + "/" + expanded
        }
        let cacheFolder =
            layers.path(Settings.cacheDir, home: home) ?? AgentConfiguration.defaultCacheDirectory(environment: environment)

        let watcher: FolderWatcher
        do {
            watcher = try FolderWatcher(roots: roots, skipping: [cacheFolder])
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
        let agent = ClientOptions.agentClient(layers)
        defer { agent.shutdown() }
        logger.notice(
            "watching for go.mod, go.work and go.sum saves",
            metadata: [
                "folders": "\(roots.joined(separator: " "))", "watched_folders": "\(watcher.watchedFolderCount)",
                "agent": "\(agent.agent)",
            ])

        let session = WatchSession(agent: agent, watchedFolders: roots, logger: logger)
        ResidentMemory.trim()
        for await batch in WatchLoop.changes(of: watcher) {
            switch batch {
            case .changed(let folders, let rescanned):
                if rescanned {
                    logger.warning(
                        "events were lost (the inotify queue overflowed; fs.inotify.max_queued_events): scanned the folders again, prefetching every workspace in them"
                    )
                }
                for folder in folders.sorted() { await session.prefetch(folder) }
                ResidentMemory.trim()
            case .failed(let error):
                logger.critical("\(error)")
                throw ExitCode(1)
            }
        }
    }
}
