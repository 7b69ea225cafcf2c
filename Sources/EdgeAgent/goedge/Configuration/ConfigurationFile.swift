import Foundation
import TOMLKit
import AgentServer

/// Reads a goedge.toml: flat `key = value` lines, comments allowed (see
/// goedge.toml(5)). Every problem is reported with the file, the line and
/// the key, and a file with any problem is refused whole.
enum ConfigurationFile {
    struct Entry: Equatable {
        var value: RawSetting
        var line: Int
    }

    /// The file's settings; nil when it does not exist.
    static func read(_ path: String) throws(ConfigurationError) -> [String: Entry]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        // A file handle, not FileManager.contents: that gives nil for /dev/null.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigurationError(["\(path): cannot be opened"])
        }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() ?? Data(), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(["\(path): cannot be read as UTF-8 text"])
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(ConfigurationError) -> [String: Entry] {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(["\(path):\(error.source.begin.line):\(error.source.begin.column): \(error.description)"])
        } catch {
            throw ConfigurationError(["\(path): \(error)"])
        }
        let lines = keyLines(text)
        var problems: [String] = []
        var entries: [String: Entry] = [:]
        for key in table.keys.sorted(by: { (lines[$0] ?? 0) < (lines[$1] ?? 0) }) {
            let line = lines[key] ?? 0
            let place = "\(path):\(line): \(key)"
            guard let setting = Settings.named(key) else {
                if table[key]?.table != nil {
                    problems.append("\(place): sections are not used; write the settings at the top of the file")
                } else {
                    problems.append("\(place): unknown key" + suggestion(for: key))
                }
                continue
            }
            guard let value = table[key].flatMap(rawValue) else {
                problems.append("\(place): expected \(setting.expected), found a value of another type")
                continue
            }
            if let problem = setting.problem(with: value) {
                problems.append("\(place): \(problem)")
                continue
            }
            entries[key] = Entry(value: value, line: line)
        }
        if !problems.isEmpty { throw ConfigurationError(problems) }
        return entries
    }

    private static func rawValue(_ value: any TOMLValueConvertible) -> RawSetting? {
        switch value.type {
        case .string: value.string.map(RawSetting.string)
        case .int: value.int.map(RawSetting.integer)
        case .bool: value.bool.map(RawSetting.boolean)
        case .array:
            value.array.flatMap { array in
                let strings = array.map { $0.string }
                return strings.contains(where: { $0 == nil }) ? nil : .strings(strings.compactMap { $0 })
            }
        default: nil
        }
    }

    /// The line each top-level key is on (TOMLKit does not say).
    private static func keyLines(_ text: String) -> [String: Int] {
        var lines: [String: Int] = [:]
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let trimmed = String(line).trimmed()
            if trimmed.hasPrefix("[") {
                let name = trimmed.drop { $0 == "[" }.prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces)
                if lines[name] == nil { lines[name] = number + 1 }
                continue
            }
            guard let equals = trimmed.firstIndex(of: "="), !trimmed.hasPrefix("#") else { continue }
            var key = String(trimmed[..<equals]).trimmed()
            if key.count >= 2, let quote = key.first, quote == "\"" || quote == "'", key.last == quote {
                key = String(key.dropFirst().dropLast())
            }
            if lines[key] == nil { lines[key] = number + 1 }
        }
        return lines
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
struct ConfigurationError: Error, CustomStringConvertible {
    let problems: [String]

    init(_ problems: [String]) {
        self.problems = problems
    }

    var description: String { problems.joined(separator: "\n") }
}
