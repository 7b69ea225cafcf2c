/// A go.work file: the modules of a workspace (`use`) and its replacements.
public struct GoWorkFile: Sendable, Equatable {
    public var goVersion: String?
    public var toolchain: String?
    /// Folders of the workspace's modules, relative to the go.work's folder.
    public var uses: [String] = []
    public var replacements: [GoModFile.Replacement] = []

    public init(parsing text: String, file: String) throws(GoFileError) {
        let lines = try GoModLexer.lines(text, file: file)
        for (verb, arguments, line) in try GoModLexer.directives(lines, file: file) {
            func fail(_ message: String) -> GoFileError { GoFileError(file: file, line: line.number, message: message) }
            let values = arguments.compactMap(\.text)
            switch verb {
            case "go":
                guard values.count == 1, GoModFile.isGoVersion(values[0]) else {
                    throw fail("invalid go version: must match format 1.23")
                }
                goVersion = values[0]
            case "toolchain":
                toolchain = values.first
            case "use":
                guard values.count == 1 else { throw fail("usage: use local/dir") }
                uses.append(values[0])
            case "replace":
                replacements.append(try GoModFile.replacement(values, count: arguments.count, fail))
            case "godebug":
                continue
            default:
                throw fail("unknown directive: \(verb)")
            }
        }
    }
}
