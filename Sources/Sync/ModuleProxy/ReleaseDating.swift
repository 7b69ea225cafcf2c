import ChecksumDatabase
import Foundation
import GoModules
import LRUCache
import ModulePolicy
import Synchronization

/// Dates module versions for the release-age cooldown by what their
/// publisher cannot write: a pseudo-version's time and an `.info`'s `Time`
/// are the commit's own date, which its author sets, so a release backdated
/// by two years would pass a seven-day cooldown at once.
///
/// - Modules the checksum database covers are dated by its log: records are
///   only ever appended, so a record whose number is below a tree size goedge
///   (or its fleet) saw at time T was published before T. goedge keeps the
///   sizes it has seen (``TreeHeadHistory``), verifying every tree head
///   against the database's key and every record's place in it.
/// - Records older than goedge's first view of the log (a fresh install)
///   are dated by their publisher until that first view is itself older
///   than the cooldown: the one window a backdated release could pass.
/// - Modules it does not cover (`no-checksum-database`, or
///   `checksum-database = "off"`) are dated by the first time goedge saw
///   them.
/// - What cannot be dated is too new.
public final class ReleaseDating: Sendable {
    /// Who vouches for versions.
    public enum Authority: Sendable {
        /// `direct`: how to ask a database at its own URL; nil: through the upstream list.
        case checksumDatabase(ChecksumDatabaseSetting, notCovered: ModulePrefixPatterns, direct: (any ChecksumDatabaseFetching)?)
        /// No checksum database: the first sight of each version.
        case firstSeen
    }

    public let authority: Authority
    public let history: TreeHeadHistory
    /// Dates that cannot change any more (their record is below a size seen).
    private let known = Mutex<[String: ReleaseDate]>([:])
    static let knownLimit = 20_000

    public init(authority: Authority, history: TreeHeadHistory) {
        self.authority = authority
        self.history = history
    }

    /// The database's name, when there is one.
    public var databaseName: String? {
        if case .checksumDatabase(let setting, _, _) = authority { setting.key.name } else { nil }
    }

    /// A date already settled, without asking anyone.
    public func knownDate(_ module: String, _ version: String) -> ReleaseDate? {
        known.withLock { $0[module + "@" + version] }
    }

    func remember(_ date: ReleaseDate, for name: String) {
        known.withLock { known in
            if known.count >= Self.knownLimit { known.removeAll(keepingCapacity: true) }
            known[name] = date
        }
    }

    static func format(_ nanoseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9))
    }
}

extension ModuleProxy {
    /// The checksum database the agent reads, through its own proxy or at its URL.
    func checksumDatabaseClient(_ setting: ChecksumDatabaseSetting, direct: (any ChecksumDatabaseFetching)?) -> ChecksumDatabaseClient {
        ChecksumDatabaseClient(key: setting.key, fetch: direct ?? ProxyChecksumDatabase(proxy: self, name: setting.key.name))
    }

    /// Checksum database `name`, read through this proxy as the go command
    /// reads it (answers cached like any other): for a prefetch that warms
    /// what the go command will look up.
    public func checksumDatabaseReader(named name: String) -> any ChecksumDatabaseFetching {
        ProxyChecksumDatabase(proxy: self, name: name)
    }

    /// The checksum database that covers `module`, when one does (it vouches for the shared store's files).
    func checksumDatabase(covering module: ModulePath) -> ChecksumDatabaseClient? {
        guard case .checksumDatabase(let setting, let notCovered, let direct) = releaseDating?.authority,
            !notCovered.matches(module.path)
        else { return nil }
        return checksumDatabaseClient(setting, direct: direct)
    }

    /// Notes the database's newest tree head: at start, so that a fresh
    /// install's first view of the log is as early as it can be.
    public func recordChecksumDatabaseHead() async {
        guard let dating = releaseDating, case .checksumDatabase(let setting, _, let direct) = dating.authority else { return }
        do {
            let head = try await checksumDatabaseClient(setting, direct: direct).latest()
            let now = clock.now()
            if dating.history.record(size: head.size, at: now) { shareTreeHead(head, seenAt: now) }
        } catch {
            logger.notice("cannot read the checksum database's tree head", metadata: ["database": "\(setting.key.name)", "problem": "\(error)"])
        }
    }

    /// When `module@version` was published, as far as someone other than
    /// its publisher can tell.
    func releaseDate(_ module: ModulePath, _ version: String) async -> ReleaseDate {
        guard let dating = releaseDating else { return .publisherTime(await publisherTime(module, version)) }
        let name = "\(module.path)@\(version)"
        if let known = dating.knownDate(module.path, version) { return known }
        guard case .checksumDatabase(let setting, let notCovered, let direct) = dating.authority, !notCovered.matches(module.path) else {
            return await firstSeen(module, version)
        }
        guard let parsed = try? ModuleVersion(version), parsed.isCanonical else {
            return ReleaseDate(latest: nil, source: "\(version) is not a version the checksum database can date")
        }
        let record: ChecksumDatabaseClient.Record
        do {
            record = try await checksumDatabaseClient(setting, direct: direct).lookup(module, parsed)
        } catch {
            switch error {
            case .notFound: return ReleaseDate(latest: nil, source: "the checksum database \(setting.key.name) has no record of it")
            case .unavailable(let reason): return ReleaseDate(latest: nil, source: reason)
            case .invalid(let reason):
                logger.warning("the checksum database's answer does not verify", metadata: ["version": "\(name)", "problem": "\(reason)"])
                return ReleaseDate(latest: nil, source: reason)
            }
        }
        let now = clock.now()
        if dating.history.record(size: record.tree.size, at: now) { shareTreeHead(record.tree, seenAt: now) }
        guard let holding = dating.history.firstHolding(record: record.number) else {
            // Only the tree just verified holds it: added since goedge last looked.
            return ReleaseDate(
                latest: now,
                source: "the checksum database's log (record \(record.number) was added after goedge's last view of the log)")
        }
        let inTheLog = ReleaseDate(
            latest: holding.seenAt,
            source: "the checksum database's log (record \(record.number) was in the log of \(holding.size) records seen \(ReleaseDating.format(holding.seenAt)))")
        if let first = dating.history.first, holding == first {
            // Older than goedge's first view of the log: the log says only "before then", and its
            // publisher may say how long before (the one window a backdated release could pass).
            if let publisher = await publisherTime(module, version), publisher < first.seenAt {
                let date = ReleaseDate(
                    latest: publisher,
                    source: "its publisher's time (its checksum record precedes goedge's first view of the log, \(ReleaseDating.format(first.seenAt)))")
                dating.remember(date, for: name)
                return date
            }
        }
        dating.remember(inTheLog, for: name)
        return inTheLog
    }

    /// The first time goedge saw this version, kept beside its files (so an
    /// evicted version is new again: the safe side).
    private func firstSeen(_ module: ModulePath, _ version: String) async -> ReleaseDate {
        let source = "the first time goedge saw it (no checksum database covers it)"
        guard let parsed = try? ModuleVersion(version), parsed.isCanonical,
            let key = try? CacheKey(group: "\(module.escaped)/@v/\(parsed.escaped)", name: "seen")
        else { return ReleaseDate(latest: nil, source: source) }
        if let seen = loadRecord(key) { return ReleaseDate(latest: seen.storedAt, source: source) }
        await storeRecord(CachedRecord(status: 200, reason: "OK", contentType: nil, body: []), at: key)
        return ReleaseDate(latest: clock.now(), source: source)
    }

    /// A version's time as its publisher gives it: a pseudo-version's own, else its `.info`'s.
    func publisherTime(_ module: ModulePath, _ version: String) async -> Int64? {
        if let time = ReleaseTime.ofPseudoVersion(version) { return time }
        guard let parsed = try? ModuleVersion(version) else { return nil }
        let info = await unpolicedAnswer(ProxyRequest(.info(module, parsed)), priority: .client, verify: nil)
        guard info.status == 200, let bytes = info.bodyBytes else { return nil }
        return ReleaseTime.ofInfo(bytes)
    }
}
