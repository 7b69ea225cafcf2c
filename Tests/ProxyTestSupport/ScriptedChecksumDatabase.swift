import ChecksumDatabase
import Crypto
import Foundation
import Synchronization

/// A checksum database made in the test: its own key, records appended when
/// the test says (as a real database appends them when a version is first
/// looked up), served through a ``ScriptedUpstream`` at
/// `sumdb/<name>/…`: `latest`, every lookup, and every tile of its tree,
/// computed plainly here (not by the code under test).
public final class ScriptedChecksumDatabase: Sendable {
    public let name: String
    /// The signing key's bytes (the key type itself is not Sendable).
    private let signingKey = Curve25519.Signing.PrivateKey().rawRepresentation
    private var signer: Curve25519.Signing.PrivateKey { try! .init(rawRepresentation: signingKey) }
    private let records = Mutex<[(module: String, version: String, data: [UInt8])]>([])

    public init(name: String = "local.test") {
        self.name = name
    }

    /// The key as GOSUMDB writes it.
    public var keyText: String {
        let data = [1] + Array(signer.publicKey.rawRepresentation)
        let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A] + data))
        let hash = digest.prefix(4).map { String(format: "%02x", $0) }.joined()
        return "\(name)+\(hash)+\(Data(data).base64EncodedString())"
    }

    public var setting: ChecksumDatabaseSetting { try! ChecksumDatabaseSetting.parse(keyText)! }

    public var size: Int { records.withLock { $0.count } }

    /// Appends the records of `versions` (go.sum lines with made-up hashes) and serves the grown tree.
    public func append(_ module: String, _ versions: [String], on upstream: ScriptedUpstream) {
        records.withLock { records in
            for version in versions {
                let data = Array("\(module) \(version) h1:\(version)zip=\n\(module) \(version)/go.mod h1:\(version)mod=\n".utf8)
                records.append((module, version, data))
            }
        }
        serve(on: upstream)
    }

    /// Appends one version's record with its real hashes.
    public func append(_ module: String, _ version: String, zipHash: String, goModHash: String, on upstream: ScriptedUpstream) {
        records.withLock { records in
            records.append((module, version, Array("\(module) \(version) \(zipHash)\n\(module) \(version)/go.mod \(goModHash)\n".utf8)))
        }
        serve(on: upstream)
    }

    /// The lookup answer the database gives for `module@version` now (its
    /// number, its record, the signed tree), as a fleet's bucket would keep it.
    public func lookupAnswer(_ module: String, _ version: String) -> [UInt8]? {
        let all = records.withLock { $0 }
        guard let number = all.firstIndex(where: { $0.module == module && $0.version == version }) else { return nil }
        let note = self.note(size: all.count, root: Self.treeHash(all.map { Self.leaf($0.data) }[...]))
        return Array("\(number)\n".utf8) + all[number].data + [0x0A] + note
    }

    /// Serves the tree as it is now through `upstream` (another agent's).
    public func serve(on upstream: ScriptedUpstream) {
        let all = records.withLock { $0 }
        let leaves = all.map { Self.leaf($0.data) }
        let note = self.note(size: leaves.count, root: Self.treeHash(leaves[...]))
        let prefix = "sumdb/\(name)/"
        upstream.script(prefix + "latest", .init(body: note))
        for (number, record) in all.enumerated() {
            let escaped = record.module + "@" + record.version
            upstream.script(prefix + "lookup/" + escaped, .init(body: Array("\(number)\n".utf8) + record.data + [0x0A] + note))
        }
        // Level 0: the leaves, 256 a tile; level 1: the hashes of complete 256-leaf subtrees.
        for tile in stride(from: 0, to: leaves.count, by: 256) {
            let slice = leaves[tile..<min(leaves.count, tile + 256)]
            upstream.script(prefix + Self.tilePath(level: 0, index: tile / 256, width: slice.count), .init(body: slice.flatMap { $0 }))
        }
        let complete = leaves.count / 256
        if complete > 0 {
            let hashes = (0..<complete).map { Self.treeHash(leaves[($0 * 256)..<(($0 + 1) * 256)]) }
            upstream.script(prefix + Self.tilePath(level: 1, index: 0, width: complete), .init(body: hashes.flatMap { $0 }))
        }
    }

    private func note(size: Int, root: [UInt8]) -> [UInt8] {
        let text = "go.sum database tree\n\(size)\n\(Data(root).base64EncodedString())\n"
        let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A, 1] + Array(signer.publicKey.rawRepresentation)))
        let signature = try! signer.signature(for: Array(text.utf8))
        return Array((text + "\n\u{2014} \(name) \(Data(digest.prefix(4) + signature).base64EncodedString())\n").utf8)
    }

    static func leaf(_ data: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: [0] + data)) }

    /// RFC 6962's tree hash, computed plainly.
    static func treeHash(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        if leaves.isEmpty { return Array(SHA256.hash(data: [UInt8]())) }
        if leaves.count == 1 { return leaves.first! }
        var split = 1
        while split << 1 < leaves.count { split <<= 1 }
        return Array(SHA256.hash(data: [1] + treeHash(leaves.prefix(split)) + treeHash(leaves.dropFirst(split))))
    }

    static func tilePath(level: Int, index: Int, width: Int) -> String {
        String(format: "tile/8/%d/%03d", level, index) + (width == 256 ? "" : ".p/\(width)")
    }
}
