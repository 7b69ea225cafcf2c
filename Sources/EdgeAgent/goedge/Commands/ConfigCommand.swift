import ArgumentParser
import Foundation
import AgentServer
import GoedgeConfiguration
import Upstream

/// `goedge config`: the settings in effect and where each comes from;
/// `goedge config --check [FILE]`: whether a configuration is usable.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the settings in effect, or check a configuration file.",
        discussion: """
            Settings come from /etc/goedge/goedge.toml, then $XDG_CONFIG_HOME/goedge/goedge.toml, \
            then GOEDGE_* environment variables, then command-line options; later ones win. Without \
            --check, prints every setting as goedge.toml lines with where its value came from. With \
            --check, validates FILE (or the configuration in effect) and exits 78 if it has problems. \
            The options of goedge serve can be given too, to see their effect.
            """
    )

    @OptionGroup var configurationFile: ConfigurationOptions

    @Flag(help: "Check the configuration instead of printing it; exit 0 when usable, 78 with the problems listed when not.")
    var check = false

    @Argument(help: ArgumentHelp("The file to check (with --check).", valueName: "file"))
    var file: String?

    @OptionGroup(title: "Serve options") var options: ServeOptions

    func validate() throws {
        if file != nil && !check { throw ValidationError("a file is only given with --check") }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        if check, let file {
            do {
                guard try ConfigurationFile.read(file) != nil else { throw ValidationError("\(file) does not exist") }
            } catch let error as ConfigurationError {
                throw ConfigurationProblems(error: error).exit()
            }
            print("\(file): ok")
            return
        }
        let layers = try configurationFile.load(options: options.given)
        do {
            _ = try AgentConfiguration(layers: layers, environment: environment)
        } catch {
            throw ConfigurationProblems(error: error).exit()
        }
        if check {
            let read = layers.filesRead.isEmpty ? "no configuration file" : layers.filesRead.joined(separator: ", ")
            print("ok (\(read), environment and options)")
            return
        }
        print(Self.render(layers, environment: environment))
    }

    /// Every setting as a goedge.toml line, with its source; unset settings
    /// show their default, commented out.
    static func render(_ layers: ConfigurationLayers, environment: [String: String]) -> String {
        var rows: [(line: String, source: String)] = []
        for setting in Settings.all {
            if let value = layers.value(setting) {
                // Credentials in URLs are never shown (user:xxxxx@host), here as in logs.
                rows.append(("\(setting.name) = \(URLRedaction.redact(value.raw.toml))", value.source.description))
            } else {
                let (value, note) = defaultValue(setting, layers: layers, environment: environment)
                rows.append(("# \(setting.name) = \(value)", note.map { "default: \($0)" } ?? "default"))
            }
        }
        let width = rows.map(\.line.count).max() ?? 0
        let files = layers.filesRead.isEmpty ? "none" : layers.filesRead.joined(separator: ", ")
        return "# goedge \(GoEdge.version) settings; configuration files read: \(files)\n"
            + rows.map { $0.line.padding(toLength: width, withPad: " ", startingAt: 0) + "  # " + $0.source }
            .joined(separator: "\n")
    }

    /// A setting's default as a value goedge.toml takes (so that a line
    /// copied into the file and uncommented works), and a note where the
    /// default depends on something.
    private static func defaultValue(
        _ setting: Setting, layers: ConfigurationLayers, environment: [String: String]
    ) -> (String, String?) {
        switch setting.name {
        case Settings.cacheDir.name:
            return (RawSetting.string(AgentConfiguration.defaultCacheDirectory(environment: environment)).toml, nil)
        case Settings.idleTimeout.name:
            return (RawSetting.string("5m").toml, "when socket-activated; \"0\" (never) otherwise")
        case Settings.agent.name:
            return (RawSetting.string(ClientOptions.agentURL(layers).description).toml, "the listen address")
        case Settings.clientHosts.name:
            return (RawSetting.strings(["0.0.0.0/0", "::/0"]).toml, "anyone who can connect")
        case Settings.policyFile.name:
            return (RawSetting.string("").toml, "none: everything may be fetched")
        case Settings.policyVulndb.name:
            return (RawSetting.string("").toml, "none")
        case Settings.clientCredentialsFile.name:
            return (RawSetting.string("").toml, "none: no credentials asked")
        case Settings.tlsCertificate.name, Settings.tlsKey.name:
            return (RawSetting.string("").toml, "none: plain HTTP")
        default:
            break
        }
        switch setting.kind {
        case .boolean: return (setting.defaultText, nil)
        case .count: return (setting.defaultText, nil)
        case .hosts: return (RawSetting.strings(setting.defaultText.split(separator: ",").map(String.init)).toml, nil)
        case .folders: return ("[]", nil)
        default: return (RawSetting.string(setting.defaultText).toml, nil)
        }
    }
}
