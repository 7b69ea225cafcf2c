#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// The checksum database's tree sizes goedge has seen, and when: the log is
/// append-only and its order cannot be backdated, so a record whose number
/// is below a size seen at time T was in the log before T, whatever date
/// its publisher wrote. This dates versions for the release-age cooldown.
///
/// Kept in a file of lines `seen-ns size` (written by goedge in its own
/// cache folder), at most one line per ``spacing`` and thinned to one a day
/// beyond ``maximumLines``, so it stays small for years. Times from other
/// agents of a fleet come in through ``merge(_:)``, dated by the shared
/// store, never by the agent that wrote them.
public final class TreeHeadHistory: Sendable {
    public struct Entry: Sendable, Equatable {
        /// When the size was first seen, nanoseconds since the epoch.
        public let seenAt: Int64
        public let size: Int64

        public init(seenAt: Int64, size: Int64) {
            self.seenAt = seenAt
            self.size = size
        }
    }

    private let entries: Mutex<[Entry]>
    private let file: String?
    /// A size is written down at most this often.
    static let spacing: Int64 = 10 * 60 * 1_000_000_000
    static let maximumLines = 10_000

    /// The history in `file` (nil: in memory only); a missing or damaged file starts empty.
    public init(file: String?) {
        self.file = file
        var loaded: [Entry] = []
        if let file, let text = try? String(contentsOfFile: file, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count >= 2, let seen = Int64(fields[0]), let size = Int64(fields[1]), seen >= 0, size >= 0 else {
                    continue
                }
                loaded.append(Entry(seenAt: seen, size: size))
            }
        }
        entries = Mutex(Self.ordered(loaded))
    }

    /// What is known, oldest first.
    public var all: [Entry] { entries.withLock { $0 } }

    /// The first size seen, if any.
    public var first: Entry? { entries.withLock { $0.first } }

    /// Notes a verified tree head's size as seen `now`. Returns whether it was written down.
    @discardableResult
    public func record(size: Int64, at now: Int64) -> Bool {
        let written: [Entry]? = entries.withLock { entries in
            if let last = entries.last {
                guard size > last.size, now - last.seenAt >= Self.spacing else { return nil }
            }
            entries.append(Entry(seenAt: now, size: size))
            if entries.count > Self.maximumLines { entries = Self.thinned(entries) }
            return entries
        }
        guard let written else { return false }
        save(written)
        return true
    }

    /// Entries others saw (a fleet's, dated by its store): kept where they tell more.
    public func merge(_ others: [Entry]) {
        let merged: [Entry]? = entries.withLock { entries in
            let combined = Self.ordered(entries + others)
            guard combined != entries else { return nil }
            entries = combined.count > Self.maximumLines ? Self.thinned(combined) : combined
            return entries
        }
        if let merged { save(merged) }
    }

    /// The largest size seen at or before `time`, with when.
    public func largest(seenAtOrBefore time: Int64) -> Entry? {
        entries.withLock { entries in entries.last { $0.seenAt <= time } }
    }

    /// The first entry whose size is above `number`: the record was added before it was seen.
    public func firstHolding(record number: Int64) -> Entry? {
        entries.withLock { entries in entries.first { $0.size > number } }
    }

    /// By time, and sizes that only grow: an entry whose size is not above
    /// an earlier one's says nothing new, and one seen later with a smaller
    /// size cannot be right (the log never shrinks) and is dropped.
    static func ordered(_ entries: [Entry]) -> [Entry] {
        var result: [Entry] = []
        for entry in entries.sorted(by: { ($0.seenAt, $0.size) < ($1.seenAt, $1.size) }) {
            if let last = result.last, entry.size <= last.size { continue }
            result.append(entry)
        }
        return result
    }

    /// One entry a day for all but the newest tenth.
    static func thinned(_ entries: [Entry]) -> [Entry] {
        let keepWhole = entries.count / 10
        var result: [Entry] = []
        for entry in entries.dropLast(keepWhole) {
            if let last = result.last, entry.seenAt - last.seenAt < 86_400 * 1_000_000_000 { continue }
            result.append(entry)
        }
        return result + entries.suffix(keepWhole)
    }

    private func save(_ entries: [Entry]) {
        guard let file else { return }
        let text = entries.map { "\($0.seenAt) \($0.size)\n" }.joined()
        let temporary = file + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else { return }
        rename(temporary, file)
    }
}
