import Foundation
import AgentServer

/// Reads a goedge.toml: flat `key = value` lines, comments allowed (see
/// goedge.toml(5)). Every problem is reported with the file, the line and
/// the key, and a file with any problem is refused whole.
package enum ConfigurationFile {
    package struct Entry: Equatable {
        package var value: RawSetting
        package var line: Int
    }

    /// The file's settings; nil when it does not exist.
    package static func read(_ path: String) throws(ConfigurationError) -> [String: Entry]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try parse(try SettingsFileText.read(path), path: path)
    }

    package static func parse(_ text: String, path: String) throws(ConfigurationError) -> [String: Entry] {
        let parsed = try SettingsFileText.parseTOML(text, path: path)
        var problems: [(line: Int, text: String)] = []
        var entries: [String: Entry] = [:]
        for section in parsed.sections {
            problems.append((section.line, "\(path):\(section.line): \(section.name): sections are not used; write the settings at the top of the file"))
        }
        for entry in parsed.entries {
            let place = "\(path):\(entry.line): \(entry.key)"
            guard let setting = Settings.named(entry.key) else {
                problems.append((entry.line, "\(place): unknown key" + suggestion(for: entry.key)))
                continue
            }
            guard let value = rawValue(entry.value) else {
                problems.append((entry.line, "\(place): expected \(setting.expected), found a value of another type"))
                continue
            }
            if let problem = setting.problem(with: value) {
                problems.append((entry.line, "\(place): \(problem)"))
                continue
            }
            entries[entry.key] = Entry(value: value, line: entry.line)
        }
        if !problems.isEmpty { throw ConfigurationError(problems.sorted { $0.line < $1.line }.map(\.text)) }
        return entries
    }

    private static func rawValue(_ value: FlatTOML.Value) -> RawSetting? {
        switch value {
        case .string(let text): .string(text)
        case .integer(let number): .integer(number)
        case .boolean(let flag): .boolean(flag)
        case .array(let items):
            items.allSatisfy({ if case .string = $0 { true } else { false } })
                ? .strings(items.compactMap { if case .string(let text) = $0 { text } else { nil } }) : nil
        case .other: nil
        }
    }

    private static func suggestion(for key: String) -> String {
        let normalized = key.lowercased().replacingOccurrences(of: "_", with: "-")
        if let close = Settings.all.first(where: { $0.name == normalized }) {
            return " (did you mean \(close.name)?)"
        }
        return " (see goedge.toml(5) for the keys)"
    }
}

/// What is wrong with the configuration: one line per problem.
package struct ConfigurationError: Error, CustomStringConvertible {
    package let problems: [String]

    package init(_ problems: [String]) {
        self.problems = problems
    }

    package var description: String { problems.joined(separator: "\n") }
}
