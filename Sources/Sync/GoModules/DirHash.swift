import Crypto
import Foundation

/// The `h1:` hashes of go.sum (golang.org/x/mod/sumdb/dirhash Hash1):
/// SHA-256 over the lines `hex(sha256(file))␠␠name\n` of every file, sorted
/// by name, in base64. A zip's files are named with their `module@version/`
/// prefix; a go.mod counts as the single file `go.mod`.
public enum DirHash {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The h1 of files given as (name, SHA-256 of the content).
    public static func hash1(_ files: [(name: String, digest: [UInt8])]) throws -> String {
        var summary = SHA256()
        for file in files.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            guard !file.name.contains("\n") else { throw Failure(description: "file name \"\(file.name)\" contains a newline") }
            let hex = file.digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            summary.update(data: Array("\(hex)  \(file.name)\n".utf8))
        }
        return "h1:" + Data(summary.finalize()).base64EncodedString()
    }

    /// The h1 of a go.mod file's content (a go.sum `/go.mod` line).
    public static func goModHash(_ content: [UInt8]) -> String {
        // Cannot fail: "go.mod" has no newline.
        try! hash1([("go.mod", Array(SHA256.hash(data: content)))])
    }

    /// The h1 of a module zip's content (a go.sum line without `/go.mod`).
    public static func zipHash(path: String) throws -> String {
        do {
            return try zipHash(ModuleZip(path: path))
        } catch let failure as ModuleZip.Failure {
            throw Failure(description: failure.description)
        }
    }

    /// The h1 of a module zip already opened.
    public static func zipHash(_ zip: ModuleZip) throws -> String {
        var files: [(String, [UInt8])] = []
        for entry in zip.entries {
            var hasher = SHA256()
            do {
                try zip.read(entry) { hasher.update(bufferPointer: $0) }
            } catch {
                throw Failure(description: "cannot read \(entry.name) in the zip: \(error)")
            }
            files.append((entry.name, Array(hasher.finalize())))
        }
        return try hash1(files)
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
