import ArgumentParser
import Foundation
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// `goedge cache ls [PATTERN]`.
struct CacheListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List cached module versions: module@version, size, last used.",
        discussion: """
            PATTERN selects entries: a glob against module@version or the module path (* also matches \
            /), or a module path prefix ending in /... as in go command patterns \
            (golang.org/x/...). Without --all, only module versions are listed, not version lists, \
            @latest, query or checksum database answers. Most recently used first.
            """
    )

    @OptionGroup var options: CacheOptions

    @Flag(help: "Also list metadata: version lists, @latest, queries, checksum database answers.")
    var all = false

    @Flag(help: "Print JSON.")
    var json = false

    @Argument(help: ArgumentHelp("Which entries (default: all).", valueName: "pattern"))
    var pattern: String?

    func run() async throws {
        let target = try await CacheCommandRun.target(options)
        defer { target.shutdown() }
        var entries: [CacheEntry]
        switch target {
        case .agent(let client, _):
            do {
                entries = try await CacheTarget.decode(
                    [CacheEntry].self, from: client, "/-/api/cache/list", body: ControlMessages.List(pattern: pattern))
            } catch {
                throw CacheCommandRun.fail("\(error)")
            }
        case .folder(let administration):
            // No agent: the configured policy file, read here, marks what the agent would not serve.
            let layers = try options.layers()
            if let policy = try? PolicyFile.read(layers: layers, home: ProcessInfo.processInfo.environment["HOME"] ?? "/") {
                entries = administration.entries(matching: pattern, markedBy: policy)
            } else {
                entries = administration.entries(matching: pattern)
            }
        }
        if !all { entries = entries.filter { $0.module != nil } }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        let now = Int64(Date().timeIntervalSince1970)
        let width = entries.map(\.name.count).max() ?? 0
        for entry in entries {
            let size = ByteSize.format(entry.size)
            let name = entry.name.padding(toLength: max(width, 1), withPad: " ", startingAt: 0)
            let sizeColumn = String(repeating: " ", count: max(0, 9 - size.count)) + size
            let denied = entry.denied.map { "  denied: " + $0 } ?? ""
            print(name + "  " + sizeColumn + "  " + Self.age(now - entry.lastUsed) + denied)
        }
        let total = entries.reduce(Int64(0)) { $0 + $1.diskUsage }
        FileHandle.standardError.write(Data("\(entries.count) entries, \(ByteSize.format(total)) on disk\n".utf8))
    }

    /// "used 5m ago".
    static func age(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: "used just now"
        case ..<3600: "used \(seconds / 60)m ago"
        case ..<86400: "used \(seconds / 3600)h ago"
        default: "used \(seconds / 86400)d ago"
        }
    }
}
