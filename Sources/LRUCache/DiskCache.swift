#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// A size-bounded, least-recently-used store of files on disk.
///
/// Files are grouped; a group (for goedge, one module@version) is the unit of
/// eviction. The store's in-memory index knows every group, its files and
/// their real disk usage; it is rebuilt from the directory at start.
///
/// The store's accounts never exceed ``Configuration/maxSize`` bytes,
/// counting everything under its directory: stored files, directories, the
/// space reserved for writes in flight, and whatever it found there and did
/// not make. A write reserves space before it lands (evicting least recently
/// used, unpinned groups to make room), goes to a temporary file, and becomes
/// visible only when committed: fsync, then rename into place. A crash at any
/// moment therefore leaves no partial file where a reader could find it;
/// goedge's leftovers in the temporary folder are removed at the next start.
///
/// The lock guards the index and the accounts only, as bazel-remote's does:
/// no file-system call runs under it. Evicted groups leave the index (and
/// the accounts) at once and their folders are deleted afterwards on the
/// blocking-work pool; a commit into a group whose folder is still being
/// moved away waits for that, without holding a thread.
///
/// Layout under the directory:
///
///     CACHEDIR.TAG           marks the folder as goedge's (and a cache, for backup tools)
///     goedge.lock            held (flock) by the process using the store
///     tmp/                   writes in flight, groups being deleted
///     data/<shard>/<group>/<file>
public final class DiskCache: Sendable {
    public struct Configuration: Sendable {
        public var directory: String
        /// Upper bound of the disk space the store uses, in bytes.
        public var maxSize: Int64
        /// How stale the on-disk record of a use (a file's atime) may get
        /// before a hit writes it again. Only the order after a restart depends
        /// on it; the in-memory order is exact.
        public var accessTimeResolution: Duration
        /// Small files are kept in memory once read, up to this many bytes in
        /// all, so that hits on them need no file access.
        public var memoryBudget: Int
        /// How long to wait for the folder's lock when another process holds
        /// it (a `goedge cache` command working on the folder) before giving up.
        public var lockWait: Duration
        /// The time of day in nanoseconds since the epoch: when files are
        /// stored and used. Tests move it on instead of sleeping.
        public var now: @Sendable () -> Int64

        public init(
            directory: String, maxSize: Int64, accessTimeResolution: Duration = .seconds(10), memoryBudget: Int = 16 << 20,
            lockWait: Duration = .zero, now: @escaping @Sendable () -> Int64 = FileSystem.now
        ) {
            self.directory = directory
            self.maxSize = maxSize
            self.accessTimeResolution = accessTimeResolution
            self.memoryBudget = memoryBudget
            self.lockWait = lockWait
            self.now = now
        }
    }

    public let configuration: Configuration
    static let blockSize: Int64 = 4096

    let dataDirectory: Int32
    let temporaryDirectory: Int32
    private let lockFile: Int32
    let state: Mutex<State>
    let resolution: Int64
    let diskFull = Atomic<Bool>(false)
    /// Settled once the index is loaded, for writes that wait for it.
    let indexInstalled = Settlement<Void>()

    struct State {
        var index = CacheIndex()
        /// The store's own folders and files (root, data, tmp, shards, lock,
        /// tag), and entries found in the folder that goedge did not make.
        var structureUsage: Int64 = 0
        var shardUsage = [Int64?](repeating: nil, count: 256)
        var reserved: Int64 = 0
        var evictions = 0
        var evictedBytes: Int64 = 0
        var temporaryCounter: UInt64 = 0
        /// Tells this process's temporary files from those a crashed run left
        /// (whose process id may well have been the same).
        let temporaryPrefix = "\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"

        var indexLoaded = false
        var report: RebuildReport?
        /// Commits in flight, by group: a group is never evicted under one.
        var commitsInFlight: [String: Int] = [:]
        /// Groups evicted whose folders are still being moved out of data/,
        /// each settled once its folder is gone, for the commits into it.
        var leaving: [String: Settlement<Void>] = [:]
        /// Evicted folders not yet deleted, and, while someone waits for
        /// none to be left, what settles then.
        var deletionsUnderWay = 0
        var deletionsDone: Settlement<Void>?

        var totalUsage: Int64 { index.diskUsage + structureUsage + reserved }

        mutating func nextTemporaryName(_ suffix: String) -> String {
            temporaryCounter += 1
            return "\(temporaryPrefix)-\(temporaryCounter).\(suffix)"
        }
    }

    /// Opens (creating when needed) the store at `configuration.directory`
    /// and takes its lock. Files can be read at once; the index, which writes
    /// need, is loaded by ``loadIndex()`` or ``loadIndexInBackground(completion:)``.
    ///
    /// A folder that holds anything and is not goedge's is refused
    /// (``CacheFolderError``): goedge never deletes what it did not create.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        self.resolution = configuration.accessTimeResolution.nanosecondCount
        let folder = try CacheFolder.open(configuration.directory, lockWait: configuration.lockWait)
        dataDirectory = folder.dataDirectory
        temporaryDirectory = folder.temporaryDirectory
        lockFile = folder.lockFile
        state = Mutex(State(structureUsage: folder.structureUsage))
    }

    /// Opens the store and loads its index before returning.
    public static func open(configuration: Configuration) throws -> DiskCache {
        let store = try DiskCache(configuration: configuration)
        store.loadIndex()
        return store
    }

    deinit {
        close(dataDirectory)
        close(temporaryDirectory)
        close(lockFile)  // releases the flock
    }

    // MARK: The index

    /// What loading the index found and did; nil until it is loaded.
    public var rebuildReport: RebuildReport? { state.withLock { $0.report } }

    public var isIndexLoaded: Bool { state.withLock { $0.indexLoaded } }

    /// Rebuilds the index from the directory on this thread, removing
    /// goedge's leftovers, and evicts down to the limit if it was lowered.
    @discardableResult
    public func loadIndex() -> RebuildReport {
        if let report = rebuildReport { return report }
        let started = ContinuousClock.now
        let rebuild = IndexRebuild(
            dataDirectory: dataDirectory, temporaryDirectory: temporaryDirectory, ownPrefix: state.withLock { $0.temporaryPrefix })
        var (shards, result) = rebuild.prepare()
        result.merge(rebuild.scan(shards))
        return install(result, started: started)
    }

    /// Loads the index on the blocking-work pool (two scans side by side),
    /// without holding the caller's thread. Cached files are served meanwhile.
    public func loadIndexConcurrently() async -> RebuildReport {
        if let report = rebuildReport { return report }
        let started = ContinuousClock.now
        let rebuild = IndexRebuild(
            dataDirectory: dataDirectory, temporaryDirectory: temporaryDirectory, ownPrefix: state.withLock { $0.temporaryPrefix })
        do {
            let (shards, prepared) = try await BlockingIO.run { rebuild.prepare() }
            async let even = BlockingIO.run { rebuild.scan(shards, first: 0, stride: 2) }
            async let odd = BlockingIO.run { rebuild.scan(shards, first: 1, stride: 2) }
            var result = prepared
            result.merge(try await even)
            result.merge(try await odd)
            let complete = result
            return try await BlockingIO.run { self.install(complete, started: started) }
        } catch {
            // The pool only refuses work when it was shut down: load here rather than never.
            return loadIndex()
        }
    }

    /// Returns once the index is loaded, without holding a thread.
    public func waitForIndex() async {
        await indexInstalled.value
    }

    private func install(_ rebuild: IndexRebuild.Result, started: ContinuousClock.Instant) -> RebuildReport {
        state.withLock { state in
            for group in rebuild.groups.sorted(by: { $0.lastUsed < $1.lastUsed }) {
                state.index.insert(group)
            }
            state.shardUsage = rebuild.shardUsage
            state.structureUsage += rebuild.shardUsage.reduce(0) { $0 + ($1 ?? 0) } + rebuild.foreignUsage
            state.indexLoaded = true
        }
        let evicted = evict(downTo: configuration.maxSize)
        let statistics = statistics()
        let report = RebuildReport(
            groups: statistics.groups, files: statistics.files, diskUsage: statistics.diskUsage,
            removedLeftovers: rebuild.removedLeftovers, foreignEntries: rebuild.foreignEntries, evictedGroups: evicted,
            duration: ContinuousClock.now - started)
        state.withLock { $0.report = report }
        indexInstalled.settle(())
        return report
    }

    func unpin(_ pin: CacheIndex.GroupPin) {
        state.withLock { $0.index.unpin(pin) }
    }

    /// Forgets a file that is gone from the disk.
    func forget(_ key: CacheKey) {
        state.withLock { _ = $0.index.removeFile(key) }
    }

    // MARK: Facts

    public func statistics() -> CacheStatistics {
        state.withLock { state in
            CacheStatistics(
                groups: state.index.groupCount, files: state.index.fileCount, diskUsage: state.totalUsage,
                reserved: state.reserved, maxSize: configuration.maxSize, evictions: state.evictions,
                evictedBytes: state.evictedBytes, memoryUsage: state.index.contentBytes)
        }
    }

    /// Pins readers hold on groups now: none once every answer is done with.
    public var pinsHeld: Int { state.withLock { $0.index.pinCount } }

    /// Every group, most recently used first.
    public func groups() -> [StoredGroup] {
        state.withLock { state in
            state.index.groupsByRecency().map { group in
                StoredGroup(
                    name: group.key, size: group.size, diskUsage: group.diskUsage, lastUsed: group.lastUsed,
                    files: group.files.map(\.name))
            }
        }
    }

    static func setAccessTime(_ fd: Int32, _ time: Int64) {
        setTimes(fd, access: time, modification: nil)
    }

    static func setTimes(_ fd: Int32, access: Int64, modification: Int64?) {
        func time(_ nanoseconds: Int64?) -> timespec {
            guard let nanoseconds else { return timespec(tv_sec: 0, tv_nsec: FileSystem.omitTime) }
            return timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        }
        var times = [time(access), time(modification)]
        futimens(fd, &times)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at the bounds of Int64.
    package var nanosecondCount: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflowed) = product.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowed ? (seconds < 0 ? .min : .max) : sum
    }
}

/// Facts about one stored file.
public struct StoredFileInfo: Sendable, Equatable {
    public var size: Int64
    public var diskUsage: Int64
    public var storedAt: Int64
}

/// One group as listed by ``DiskCache/groups()``.
public struct StoredGroup: Sendable {
    public var name: String
    public var size: Int64
    public var diskUsage: Int64
    /// Nanoseconds since the epoch.
    public var lastUsed: Int64
    public var files: [String]

    public init(name: String, size: Int64, diskUsage: Int64, lastUsed: Int64, files: [String]) {
        self.name = name
        self.size = size
        self.diskUsage = diskUsage
        self.lastUsed = lastUsed
        self.files = files
    }
}

/// Counts describing the store.
public struct CacheStatistics: Sendable, Equatable {
    public var groups: Int
    public var files: Int
    /// Bytes of disk in use, including reservations for writes in flight.
    public var diskUsage: Int64
    public var reserved: Int64
    public var maxSize: Int64
    public var evictions: Int
    public var evictedBytes: Int64
    /// Bytes of small files' content held in memory.
    public var memoryUsage: Int
}

public enum DiskCacheError: Error, CustomStringConvertible {
    case inUse(directory: String)

    public var description: String {
        switch self {
        case .inUse(let directory):
            "the cache folder \(directory) is in use by another goedge process (goedge.lock is held)"
        }
    }
}
