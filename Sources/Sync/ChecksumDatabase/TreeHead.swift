import Foundation

/// A checksum database's signed tree head: how many records its log holds
/// and the Merkle tree hash over them (`go.sum database tree`, N, hash).
public struct TreeHead: Sendable, Equatable {
    public let size: Int64
    public let hash: [UInt8]
    /// The signed note, as the database sent it (kept to show, or to share).
    public let note: [UInt8]

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// A `latest` answer, or the note that ends a lookup, verified by `key`.
    public init(verifying note: some Collection<UInt8>, with key: VerifierKey) throws(Failure) {
        let signed: SignedNote
        do {
            signed = try SignedNote(verifying: note, with: key)
        } catch {
            throw Failure(description: error.description)
        }
        let lines = signed.text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 4, lines[0] == "go.sum database tree", lines[3].isEmpty,
            let size = Int64(lines[1]), size >= 0, String(size) == lines[1],
            let hash = Data(base64Encoded: String(lines[2])), hash.count == 32
        else { throw Failure(description: "not a tree head") }
        self.size = size
        self.hash = Array(hash)
        self.note = Array(note)
    }

    init(size: Int64, hash: [UInt8], note: [UInt8] = []) {
        self.size = size
        self.hash = hash
        self.note = note
    }
}
