import ArgumentParser
import Foundation
import Logging
import AgentServer
import GoedgeConfiguration

/// `goedge serve`: run the agent.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the caching GOPROXY agent.",
        discussion: """
            Serves the GOPROXY protocol (list, .info, .mod, .zip, @latest) and passes checksum \
            database requests (/sumdb/…) through. Misses are fetched from the upstream list and \
            kept in a size-bounded LRU disk cache. Set GOPROXY=http://127.0.0.1:7179,direct in \
            the go command's environment. SIGTERM or SIGINT stop it after the responses in flight.
            """
    )

    @OptionGroup var configurationFile: ConfigurationOptions
    @OptionGroup var options: ServeOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let layers = try configurationFile.load(options: options.given)
        let configuration: AgentConfiguration
        do {
            configuration = try AgentConfiguration(layers: layers, environment: environment)
        } catch {
            throw ConfigurationProblems(error: error).exit()
        }
        let style = AgentLogHandler.style(environment: environment, json: configuration.logsJSON)
        if style == .json { StructuredAccessLog.enable() }
        LoggingSystem.bootstrap { _ in AgentLogHandler(level: configuration.logLevel, style: style) }
        JournalRecord.enableIfStandardErrorIsTheJournal(environment: environment)
        do {
            try await Agent(configuration: configuration).run()
        } catch let exit as AgentExit {
            throw ExitCode(exit.status)
        }
    }
}
