import Foundation
import AgentServer

/// Where a setting's value came from.
package enum SettingSource: Equatable, CustomStringConvertible {
    case defaultValue
    case file(String, line: Int)
    case environment(String)
    case option(String)

    package var description: String {
        switch self {
        case .defaultValue: "default"
        case .file(let path, let line): "\(path):\(line)"
        case .environment(let name): name
        case .option(let name): name
        }
    }
}

/// The settings in effect: the system file, then the user's file, then
/// `GOEDGE_*` environment variables, then command-line options, later ones
/// winning. A problem anywhere refuses the whole configuration, so goedge
/// never runs on half of one.
package struct ConfigurationLayers {
    package struct Value: Equatable {
        package let raw: RawSetting
        package let source: SettingSource
    }

    private(set) var values: [String: Value] = [:]
    /// The files that were read (those that exist).
    package private(set) var filesRead: [String] = []

    package static let systemFile = "/etc/goedge/goedge.toml"

    /// `/etc/goedge/goedge.toml`, then `$XDG_CONFIG_HOME/goedge/goedge.toml`
    /// (`~/.config/goedge/goedge.toml`).
    package static func standardFiles(environment: [String: String]) -> [String] {
        let configHome =
            environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return [systemFile, configHome + "/goedge/goedge.toml"]
    }

    /// Loads the layers. `files` are read in order (missing ones skipped);
    /// `options` are the command-line options given, by setting name.
    package static func load(
        files: [String], environment: [String: String], options: [String: RawSetting]
    ) throws(ConfigurationError) -> ConfigurationLayers {
        var layers = ConfigurationLayers()
        var problems: [String] = []
        for path in files {
            do {
                guard let entries = try ConfigurationFile.read(path) else { continue }
                layers.filesRead.append(path)
                for (key, entry) in entries {
                    layers.values[key] = Value(raw: entry.value, source: .file(path, line: entry.line))
                }
            } catch {
                problems += error.problems
            }
        }
        for setting in Settings.all {
            guard let text = environment[setting.environmentName] else { continue }
            let value = setting.value(fromText: text)
            if let problem = setting.problem(with: value) {
                problems.append("\(setting.environmentName): \(problem)")
            } else {
                layers.values[setting.name] = Value(raw: value, source: .environment(setting.environmentName))
            }
        }
        for (name, value) in options {
            guard let setting = Settings.named(name) else { continue }
            if let problem = setting.problem(with: value) {
                problems.append("\(setting.flag): \(problem)")
            } else {
                layers.values[name] = Value(raw: value, source: .option(setting.flag))
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems) }
        return layers
    }

    package func value(_ setting: Setting) -> Value? { values[setting.name] }

    // Typed reads. Values were checked when loaded, so they parse.

    package func string(_ setting: Setting) -> String? {
        if case .string(let text)? = values[setting.name]?.raw { return text }
        return nil
    }

    /// A path setting with `~` expanded; nil when unset, and for a file
    /// that may be left out, when set to "" (how a file says "none", as
    /// `goedge config` prints it).
    package func path(_ setting: Setting, home: String) -> String? {
        guard let text = string(setting), !(text.isEmpty && setting.kind == .optionalPath) else { return nil }
        return text == "~" ? home : text.hasPrefix("~/") ? home + text.dropFirst(1) : text
    }

    package func size(_ setting: Setting) -> ByteSize? {
        switch values[setting.name]?.raw {
        case .string(let text)?: ByteSize(parsing: text)
        case .integer(let bytes)?: ByteSize(bytes: Int64(bytes))
        default: nil
        }
    }

    package func duration(_ setting: Setting) -> Duration? { string(setting).flatMap(DurationText.parse) }

    package func boolean(_ setting: Setting) -> Bool? {
        if case .boolean(let value)? = values[setting.name]?.raw { return value }
        return nil
    }

    package func count(_ setting: Setting) -> Int? {
        if case .integer(let count)? = values[setting.name]?.raw { return count }
        return nil
    }

    package func strings(_ setting: Setting) -> [String]? {
        if case .strings(let items)? = values[setting.name]?.raw { return items }
        return nil
    }
}
