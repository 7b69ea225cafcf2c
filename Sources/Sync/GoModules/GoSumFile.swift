/// A go.sum (or go.work.sum): the hashes of module versions the go command
/// has seen, `path version h1:…` for a zip's content and
/// `path version/go.mod h1:…` for a go.mod file.
public struct GoSumFile: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public let module: ModulePath
        public let version: ModuleVersion
        /// True for a `/go.mod` line (the hash of the .mod file alone).
        public let goModOnly: Bool
        /// `h1:…`
        public let hash: String
    }

    public var lines: [Line] = []

    public init(parsing text: String, file: String) throws(GoFileError) {
        for (index, raw) in text.textLines.enumerated() {
            let fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            func fail(_ message: String) -> GoFileError { GoFileError(file: file, line: index + 1, message: message) }
            guard fields.count == 3 else { throw fail("malformed go.sum line: want \"module version hash\"") }
            let module: ModulePath
            do {
                module = try ModulePath(String(fields[0]))
            } catch {
                throw fail("\(error)")
            }
            var versionText = Substring(fields[1])
            let goModOnly = versionText.hasSuffix("/go.mod")
            if goModOnly { versionText = versionText.dropLast("/go.mod".count) }
            guard let version = try? ModuleVersion(String(versionText)), version.isCanonical else {
                throw fail("invalid version \"\(fields[1])\"")
            }
            guard fields[2].contains(":") else { throw fail("malformed hash \"\(fields[2])\"") }
            lines.append(Line(module: module, version: version, goModOnly: goModOnly, hash: String(fields[2])))
        }
    }

    /// The h1 hash of a module version's zip, or of its go.mod.
    public func hash(of key: ModuleVersionKey, goMod: Bool) -> String? {
        lines.first { $0.module == key.module && $0.version == key.version && $0.goModOnly == goMod && $0.hash.hasPrefix("h1:") }?.hash
    }
}
