import Logging
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import ChecksumDatabase

/// One setting goedge takes. Its name is the key in goedge.toml, the
/// command-line option (`--name`) and, upper-cased, the environment
/// variable (`GOEDGE_NAME`); see ``Settings`` for all of them.
package struct Setting: Sendable, Hashable {
    package enum Kind: Sendable, Hashable {
        case text
        /// A file or folder; `~/` is the home folder.
        case path
        /// A file, or `""` for none.
        case optionalPath
        /// A size such as `10GiB`, or a number of bytes.
        case size(minimum: Int64)
        /// A duration such as `5m`.
        case duration(allowZero: Bool)
        case boolean
        /// A whole number, at least one.
        case count
        /// A list of folders.
        case folders
        /// A list of addresses or networks (`127.0.0.1`, `10.0.0.0/8`, `::1`).
        case hosts
        case listen
        case upstream
        case logLevel
        case logFormat
        /// An agent's URL (`http://127.0.0.1:7179`).
        case url
        /// A checksum database as GOSUMDB names it.
        case checksumDatabase
        /// Module path patterns as GONOSUMDB writes them (comma-separated globs), or "" for none.
        case modulePatterns
        /// One of a fixed set of words.
        case choice([String])
    }

    package let name: String
    package let kind: Kind
    /// The default, as shown to people.
    package let defaultText: String
    package let summary: String

    package var flag: String { "--" + name }

    /// The largest count taken (connections, downloads at once).
    package static let maximumCount = 1_000_000

    package var environmentName: String {
        "GOEDGE_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// What the kind of value looks like, for error messages.
    package var expected: String {
        switch kind {
        case .text: "a text"
        case .path: "a path"
        case .optionalPath: "a path, or \"\" for none"
        case .size: "a size such as \"512MiB\" or \"10GiB\""
        case .duration: "a duration such as \"30s\", \"5m\" or \"1h30m\" (at most 100 years)"
        case .boolean: "true or false"
        case .count: "a whole number from 1 to \(Self.maximumCount)"
        case .folders: "a list of folders, such as [\"~/src\"]"
        case .hosts: "a list of addresses or networks, such as [\"127.0.0.1\", \"::1\"]"
        case .listen: "an address such as \"127.0.0.1:7179\", \"[::1]:7179\" or \"unix:/run/goedge.sock\""
        case .upstream: "an upstream list in GOPROXY syntax, such as \"https://proxy.golang.org\""
        case .logLevel: "one of trace, debug, info, notice, warning, error, critical"
        case .logFormat: "text or json"
        case .url: "an http:// URL such as \"http://127.0.0.1:7179\""
        case .checksumDatabase: "a checksum database as GOSUMDB names it: \"sum.golang.org\", \"NAME+HASH+KEY [URL]\" or \"off\""
        case .modulePatterns: "module path patterns as GONOSUMDB writes them, such as \"*.corp.example,github.com/acme/*\""
        case .choice(let words): "one of " + words.joined(separator: ", ")
        }
    }

    /// Checks a value; nil when it is fine, else what is wrong with it.
    package func problem(with value: RawSetting) -> String? {
        switch (kind, value) {
        case (.text, .string(let text)), (.path, .string(let text)):
            return text.isEmpty ? "must not be empty" : nil
        case (.optionalPath, .string):
            return nil
        case (.size(let minimum), .string(let text)):
            guard let size = ByteSize(parsing: text) else { return "expected \(expected), found \"\(text)\"" }
            return size.bytes < minimum ? "must be at least \(ByteSize.format(minimum))" : nil
        case (.size(let minimum), .integer(let bytes)):
            if bytes < 0 { return "must not be negative" }
            return Int64(bytes) < minimum ? "must be at least \(ByteSize.format(minimum))" : nil
        case (.duration(let allowZero), .string(let text)):
            guard let duration = DurationText.parse(text) else { return "expected \(expected), found \"\(text)\"" }
            return duration == .zero && !allowZero ? "must be more than 0" : nil
        case (.boolean, .boolean):
            return nil
        case (.count, .integer(let count)):
            return count < 1 ? "must be at least 1" : count > Self.maximumCount ? "must be at most \(Self.maximumCount)" : nil
        case (.folders, .strings(let folders)):
            return folders.contains(where: \.isEmpty) ? "folders must not be empty" : nil
        case (.hosts, .strings(let hosts)):
            return hosts.first { HostPattern(parsing: $0) == nil }.map { "\"\($0)\" is not an address or network" }
        case (.listen, .string(let text)):
            return ListenAddress(parsing: text) == nil ? "expected \(expected), found \"\(text)\"" : nil
        case (.upstream, .string(let text)):
            do {
                _ = try UpstreamList(parsing: text)
                return nil
            } catch {
                return "\(error)"
            }
        case (.logFormat, .string(let text)):
            return text == "text" || text == "json" ? nil : "expected \(expected), found \"\(text)\""
        case (.logLevel, .string(let text)):
            return Logger.Level(rawValue: text) == nil ? "expected \(expected), found \"\(text)\"" : nil
        case (.url, .string(let text)):
            return AgentURL(parsing: text) == nil ? "expected \(expected), found \"\(text)\"" : nil
        case (.checksumDatabase, .string(let text)):
            do {
                _ = try ChecksumDatabaseSetting.parse(text)
                return nil
            } catch {
                return "\(error)"
            }
        case (.modulePatterns, .string):
            return nil
        case (.choice(let words), .string(let text)):
            return words.contains(text) ? nil : "expected \(expected), found \"\(text)\""
        default:
            return "expected \(expected), found \(value.kindDescription)"
        }
    }

    /// A value given as text (an environment variable, an option) in this setting's kind.
    package func value(fromText text: String) -> RawSetting {
        switch kind {
        case .boolean:
            switch text.lowercased() {
            case "1", "true", "yes", "on": return .boolean(true)
            case "0", "false", "no", "off": return .boolean(false)
            default: return .string(text)
            }
        case .count:
            return Int(text).map(RawSetting.integer) ?? .string(text)
        case .folders:
            return .strings(text.split(separator: ":").map(String.init))
        case .hosts:
            return .strings(text.split(separator: ",").map { String($0).trimmed() })
        default:
            return .string(text)
        }
    }
}

/// A setting's value as written, before it is interpreted.
package enum RawSetting: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case strings([String])

    package var kindDescription: String {
        switch self {
        case .string(let text): "the text \"\(text)\""
        case .integer(let number): "the number \(number)"
        case .boolean(let value): "\(value)"
        case .strings: "a list"
        }
    }

    /// The value in TOML syntax.
    package var toml: String {
        switch self {
        case .string(let text): Self.quoted(text)
        case .integer(let number): String(number)
        case .boolean(let value): String(value)
        case .strings(let items): "[" + items.map(Self.quoted).joined(separator: ", ") + "]"
        }
    }

    private static func quoted(_ text: String) -> String {
        var escaped = "\""
        for character in text {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.append(character)
            }
        }
        return escaped + "\""
    }
}
