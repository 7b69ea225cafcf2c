import Crypto
import Foundation

/// A checksum database's verifier key, as GOSUMDB names it:
/// `name+hash+key`, where `key` is base64 of the algorithm byte (1:
/// Ed25519) and the public key, and `hash` is eight hex digits: the first
/// four bytes of SHA-256 over `name`, a newline, and that key data
/// (golang.org/x/mod/sumdb/note). Signatures carry the same four bytes.
public struct VerifierKey: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    let keyHash: UInt32
    /// The Ed25519 public key's 32 bytes.
    let publicKeyBytes: [UInt8]

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// The text as written: `sum.golang.org+033de0ae+Ac4z…`.
    public let text: String

    public init(parsing text: String) throws(Failure) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw Failure(description: "a verifier key is name+hash+key, not \(text)") }
        let name = String(parts[0])
        guard Self.isValidName(name) else { throw Failure(description: "invalid database name \(name) in \(text)") }
        guard parts[1].count == 8, let hash = UInt32(parts[1], radix: 16) else {
            throw Failure(description: "the key hash of \(text) is not eight hex digits")
        }
        guard let data = Data(base64Encoded: String(parts[2])), data.count == 33, data.first == 1,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: data.dropFirst())
        else { throw Failure(description: "the key of \(text) is not an Ed25519 key") }
        guard Self.hash(name: name, keyData: Array(data)) == hash else {
            throw Failure(description: "the key hash of \(text) does not match its name and key")
        }
        self.name = name
        self.keyHash = hash
        self.publicKeyBytes = Array(key.rawRepresentation)
        self.text = text
    }

    public var description: String { text }

    /// Whether `signature` is this key's over `message`.
    func isValidSignature(_ signature: some DataProtocol, for message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKeyBytes) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    public static func == (lhs: VerifierKey, rhs: VerifierKey) -> Bool { lhs.text == rhs.text }

    static func hash(name: String, keyData: [UInt8]) -> UInt32 {
        let digest = Array(SHA256.hash(data: Array(name.utf8) + [0x0A] + keyData))
        return digest.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// note.isValidName: printable, no spaces or `+`.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "+" }
    }
}
