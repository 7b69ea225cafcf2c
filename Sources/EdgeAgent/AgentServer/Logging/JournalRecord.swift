import CSystemd
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Access log lines as journal entries with fields of their own
/// (`sd_journal_sendv`), so that `journalctl -u goedge
/// GOEDGE_MODULE=golang.org/x/text` answers "who fetched this": the
/// module, version, kind of file, cache outcome, client, user and policy
/// verdict of each request, beside the line itself.
package enum JournalRecord {
    private static let enabled = Atomic<Bool>(false)

    /// Sends access lines as entries when standard error really is the
    /// journal's stream: `JOURNAL_STREAM` names its device and inode
    /// (systemd.exec(5)), which a redirected stderr no longer matches.
    package static func enableIfStandardErrorIsTheJournal(environment: [String: String]) {
        guard let stream = environment["JOURNAL_STREAM"] else { return }
        let parts = stream.split(separator: ":")
        var status = stat()
        guard parts.count == 2, let device = UInt(parts[0]), let inode = UInt(parts[1]), fstat(2, &status) == 0,
            UInt(status.st_dev) == device, UInt(status.st_ino) == inode
        else { return }
        enabled.store(true, ordering: .relaxed)
    }

    static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Sends one entry; false when the journal did not take it (the caller
    /// then logs the line as usual).
    static func send(message: String, priority: Int, fields: [(name: String, value: String)]) -> Bool {
        let texts = ["MESSAGE=" + message, "PRIORITY=\(priority)", "SYSLOG_IDENTIFIER=goedge"]
            + fields.map { "\($0.name)=\($0.value)" }
        let copies = texts.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        var vectors = copies.map { iovec(iov_base: UnsafeMutableRawPointer($0), iov_len: strlen($0!)) }
        return vectors.withUnsafeMutableBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) } == 0
    }
}
