import ArgumentParser
import Foundation
import AgentServer
import GoedgeConfiguration

/// `--config FILE`, which every command takes.
struct ConfigurationOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "Read settings from this file only, instead of /etc/goedge/goedge.toml and then "
                + "$XDG_CONFIG_HOME/goedge/goedge.toml (~/.config/goedge/goedge.toml).",
            valueName: "file"))
    var file: String?

    func files(environment: [String: String]) -> [String] {
        file.map { [$0] } ?? ConfigurationLayers.standardFiles(environment: environment)
    }

    /// Loads the layers, or stops the command with the problems listed.
    func load(options: [String: RawSetting]) throws -> ConfigurationLayers {
        let environment = ProcessInfo.processInfo.environment
        if let file, !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("--config: \(file) does not exist")
        }
        do {
            return try ConfigurationLayers.load(files: files(environment: environment), environment: environment, options: options)
        } catch {
            throw ConfigurationProblems(error: error).exit()
        }
    }
}

/// A configuration that cannot be used: printed whole, and goedge exits 78
/// (EX_CONFIG), so a service manager sees a configuration error, not a crash.
struct ConfigurationProblems: Error, CustomStringConvertible {
    let error: ConfigurationError
    var description: String { "goedge: the configuration has problems:\n" + error.problems.map { "  " + $0 }.joined(separator: "\n") }

    static let exitCode = ExitCode(78)

    /// Prints the problems and gives the error that exits with ``exitCode``.
    func exit() -> ExitCode {
        FileHandle.standardError.write(Data((description + "\n").utf8))
        return Self.exitCode
    }
}

extension Setting {
    /// An option's help text: what it does and its default.
    var help: String { "\(summary) (default: \(defaultText))" }
}
