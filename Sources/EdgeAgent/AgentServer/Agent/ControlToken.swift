import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The secret that lets a TCP client change the cache through the control
/// API (remove, prune, import): made afresh at each start in the cache
/// folder, readable only by goedge's user (and root), so that goedge's own
/// commands run by those users read it and send it, and nobody else can.
/// Over the unix socket the kernel names the peer instead (`SO_PEERCRED`).
package enum ControlToken {
    package static let fileName = "control-token"

    /// Writes a new token to `folder/control-token` (mode 0600, replaced whole).
    static func create(in folder: String) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<32).map { _ in UInt8.random(in: 0...UInt8.max, using: &generator) }
        let token = random.map { String(format: "%02x", $0) }.joined()
        let temporary = folder + "/.\(fileName).\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let bytes = Array((token + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        // The umask cannot widen 0600, but a file left by an older run could have other bits.
        fchmod(descriptor, 0o600)
        close(descriptor)
        guard written == bytes.count, rename(temporary, folder + "/" + fileName) == 0 else {
            unlink(temporary)
            throw POSIXError(.EIO)
        }
        return token
    }

    /// The token in `folder`, when this user may read it.
    package static func read(in folder: String) -> String? {
        guard let data = FileManager.default.contents(atPath: folder + "/" + fileName),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty
        else { return nil }
        return text
    }

    /// Whether an `Authorization: Bearer …` value carries `token` (compared in constant time).
    static func matches(_ header: String?, token: String) -> Bool {
        guard let header, header.hasPrefix("Bearer "), header.count < 1024 else { return false }
        return SecretDigest(of: token).matches(header.dropFirst(7).trimmingCharacters(in: .whitespaces))
    }
}
