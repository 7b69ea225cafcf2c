import GoModules

/// Reads a checksum database and believes only what it can verify: a
/// lookup's record is accepted when the tree head after it is signed by
/// the database's key and the record is proved to be in that tree (with
/// hashes from its tiles). What the database says is fetched through a
/// seam (``ChecksumDatabaseFetching``): the agent reads it through its own
/// proxy, so that lookups and tiles are cached like any immutable file.
public struct ChecksumDatabaseClient: Sendable {
    public let key: VerifierKey
    let fetch: any ChecksumDatabaseFetching

    public init(key: VerifierKey, fetch: any ChecksumDatabaseFetching) {
        self.key = key
        self.fetch = fetch
    }

    /// A verified lookup: the record's number in the log, its go.sum hashes,
    /// and the signed tree it was proved in.
    public struct Record: Sendable, Equatable {
        public let number: Int64
        /// The h1 of the module zip.
        public let zipHash: String
        /// The h1 of the go.mod file.
        public let goModHash: String
        public let tree: TreeHead
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The database has no record of that version (404/410).
        case notFound(String)
        /// It could not be asked (unreachable, a 5xx).
        case unavailable(String)
        /// It answered something that does not verify.
        case invalid(String)

        public var description: String {
            switch self {
            case .notFound(let reason), .unavailable(let reason), .invalid(let reason): reason
            }
        }
    }

    /// The record of `module@version`, verified.
    public func lookup(_ module: ModulePath, _ version: ModuleVersion) async throws(Failure) -> Record {
        let name = "\(module.path)@\(version.text)"
        let bytes: [UInt8]
        switch await fetch.fetch(endpoint: "lookup/\(module.escaped)@\(version.escaped)") {
        case .found(let body): bytes = body
        case .notFound: throw .notFound("the checksum database \(key.name) has no record of \(name)")
        case .failed(let reason): throw .unavailable("cannot ask the checksum database \(key.name) about \(name): \(reason)")
        }
        return try await verify(lookup: bytes, module, version)
    }

    /// A lookup answer for `module@version`, from wherever it came (a fleet's
    /// bucket keeps them too), checked as ``lookup(_:_:)`` checks one: its
    /// tree signed by the database's key, its record proved in that tree.
    public func verify(lookup bytes: [UInt8], _ module: ModulePath, _ version: ModuleVersion) async throws(Failure) -> Record {
        let name = "\(module.path)@\(version.text)"
        // "N\n", the record's lines, a blank line, the signed tree.
        guard let firstNewline = bytes.firstIndex(of: 0x0A),
            let number = Int64(String(decoding: bytes[..<firstNewline], as: UTF8.self)), number >= 0,
            let blank = Self.blankLine(in: bytes, from: firstNewline + 1)
        else { throw .invalid("the checksum database's answer for \(name) is not a lookup record") }
        let data = Array(bytes[(firstNewline + 1)...blank])
        let tree: TreeHead
        do {
            tree = try TreeHead(verifying: bytes[(blank + 2)...], with: key)
        } catch {
            throw .invalid("the checksum database's tree for \(name) does not verify: \(error)")
        }
        guard let hashes = Self.hashes(in: data, module: module.path, version: version.text) else {
            throw .invalid("the checksum database's record for \(name) does not name it")
        }
        do {
            try await TransparencyLog.proveInclusion(
                index: number, leaf: TransparencyLog.recordHash(data), size: tree.size, root: tree.hash
            ) { tile in
                switch await fetch.fetch(endpoint: tile.path) {
                case .found(let body): return body
                case .notFound: throw TransparencyLog.Failure(description: "tile \(tile.path) not found")
                case .failed(let reason): throw TransparencyLog.Failure(description: "tile \(tile.path): \(reason)")
                }
            }
        } catch {
            throw .invalid("the checksum database's record for \(name) is not proved in its tree: \(error)")
        }
        return Record(number: number, zipHash: hashes.zip, goModHash: hashes.goMod, tree: tree)
    }

    /// The database's newest signed tree head, verified.
    public func latest() async throws(Failure) -> TreeHead {
        switch await fetch.fetch(endpoint: "latest") {
        case .found(let body):
            do {
                return try TreeHead(verifying: body, with: key)
            } catch {
                throw .invalid("the checksum database's latest tree does not verify: \(error)")
            }
        case .notFound: throw .notFound("the checksum database \(key.name) has no latest tree")
        case .failed(let reason): throw .unavailable("cannot ask the checksum database \(key.name): \(reason)")
        }
    }

    /// Where the record's text ends: the index of its last newline, which a blank line follows.
    private static func blankLine(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 0x0A && bytes[index + 1] == 0x0A { return index }
            index += 1
        }
        return nil
    }

    /// The zip and go.mod hashes the record's lines give for `module version`.
    package static func hashes(in data: [UInt8], module: String, version: String) -> (zip: String, goMod: String)? {
        var zip: String?
        var goMod: String?
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == module, fields[2].hasPrefix("h1:") else { continue }
            if fields[1] == version { zip = String(fields[2]) }
            if fields[1] == version + "/go.mod" { goMod = String(fields[2]) }
        }
        guard let zip, let goMod else { return nil }
        return (zip, goMod)
    }
}

/// How the client asks its database: `endpoint` is what follows
/// `sumdb/NAME/` (`latest`, `lookup/M@V`, `tile/8/0/000`).
public protocol ChecksumDatabaseFetching: Sendable {
    func fetch(endpoint: String) async -> ChecksumDatabaseAnswer
}

public enum ChecksumDatabaseAnswer: Sendable {
    case found([UInt8])
    case notFound
    case failed(String)
}
