import Foundation

/// A signed note (golang.org/x/mod/sumdb/note): text ending in a newline, a
/// blank line, then signature lines `— name base64(keyhash ‖ signature)`.
/// Verified by a known key: the note is accepted only when a signature by
/// that key (name and hash both matching) is valid over the text.
public struct SignedNote: Sendable, Equatable {
    /// The signed text, with its final newline.
    public let text: String

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// The longest note accepted (Go's own limit is 1 MB).
    static let maximumSize = 1 << 20

    public init(verifying bytes: some Collection<UInt8>, with key: VerifierKey) throws(Failure) {
        guard bytes.count <= Self.maximumSize, let whole = String(validating: Array(bytes), as: UTF8.self) else {
            throw Failure(description: "not a signed note")
        }
        guard whole.hasSuffix("\n"), let split = whole.range(of: "\n\n", options: .backwards) else {
            throw Failure(description: "not a signed note: no signatures")
        }
        let text = String(whole[..<split.lowerBound]) + "\n"
        let signatures = whole[split.upperBound...].split(separator: "\n")
        guard !signatures.isEmpty else { throw Failure(description: "not a signed note: no signatures") }
        var verified = false
        for line in signatures {
            guard line.hasPrefix("\u{2014} ") else { throw Failure(description: "malformed signature line") }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, let signature = Data(base64Encoded: String(fields[1])), signature.count > 4 else {
                throw Failure(description: "malformed signature line")
            }
            guard fields[0] == key.name else { continue }
            let hash = signature.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard hash == key.keyHash else { continue }
            guard key.isValidSignature(signature.dropFirst(4), for: Array(text.utf8)) else {
                throw Failure(description: "the signature of \(key.name) does not verify")
            }
            verified = true
        }
        guard verified else { throw Failure(description: "not signed by \(key.name)") }
        self.text = text
    }
}
