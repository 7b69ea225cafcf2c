import ChecksumDatabase
import Foundation
import ModulePolicy
import SharedStore

/// The checksum database's tree sizes seen across a fleet, kept in its
/// shared store: an ephemeral runner has no history of its own, and the
/// cooldown dates versions by the log's sizes seen before. Each object holds
/// a signed tree head; when it was seen is the store's `Last-Modified`,
/// which the store sets and no writer can backdate, and what it says is
/// believed only once its signature verifies. A writer can only add a real
/// head now, which makes versions look newer, never older.
extension ModuleProxy {
    /// Where a database's heads live in the store: `checksum-heads/NAME/YYYYMMDDHH` (one an hour, the first writer's).
    static func fleetHeadsPrefix(_ database: String) -> String {
        "checksum-heads/" + database.replacingOccurrences(of: "/", with: "%2F") + "/"
    }

    /// Heads read from the store at once, at most (spread over the listing, oldest and newest included).
    static let fleetHeadsRead = 32

    /// Reads the fleet's heads and merges them into this agent's history.
    public func readFleetHistory() async {
        guard let shared, let dating = releaseDating, case .checksumDatabase(let setting, _, _) = dating.authority,
            let listing = await shared.list(prefix: Self.fleetHeadsPrefix(setting.key.name), startAfter: nil)
        else { return }
        let objects = listing.objects
        guard !objects.isEmpty else { return }
        let step = max(1, objects.count / Self.fleetHeadsRead)
        var chosen = Set(stride(from: 0, to: objects.count, by: step))
        chosen.insert(objects.count - 1)
        var entries: [TreeHeadHistory.Entry] = []
        for index in chosen.sorted() {
            let object = objects[index]
            guard let seen = Self.time(object.lastModified),
                let read = await shared.read(key: String(object.key.dropFirst(Self.storePrefixLength(object.key, setting.key.name))), limit: 4096),
                let head = try? TreeHead(verifying: read.bytes, with: setting.key)
            else { continue }
            entries.append(TreeHeadHistory.Entry(seenAt: seen, size: head.size))
        }
        dating.history.merge(entries)
    }

    /// Writes a head this agent just wrote down to the fleet's store (one an hour is kept, the first).
    func shareTreeHead(_ head: TreeHead, seenAt: Int64) {
        guard let shared, let dating = releaseDating, case .checksumDatabase(let setting, _, _) = dating.authority else { return }
        let hour = Self.hourKey(seenAt)
        Task { _ = await shared.write(key: Self.fleetHeadsPrefix(setting.key.name) + hour, bytes: head.note) }
    }

    /// The listing gives keys with the store's own prefix: what follows it.
    private static func storePrefixLength(_ key: String, _ database: String) -> Int {
        guard let range = key.range(of: fleetHeadsPrefix(database)) else { return 0 }
        return key.distance(from: key.startIndex, to: range.lowerBound)
    }

    static func hourKey(_ nanoseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHH"
        return formatter.string(from: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9))
    }

    /// An S3 `LastModified` (ISO 8601, with or without fractions) in nanoseconds.
    static func time(_ text: String) -> Int64? {
        InternetTime.nanoseconds(text)
    }
}
