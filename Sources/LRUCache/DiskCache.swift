#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch
import Synchronization

/// A size-bounded, least-recently-used store of files on disk.
///
/// Files are grouped; a group (for goedge, one module@version) is the unit of
/// eviction. The store's in-memory index knows every group, its files and
/// their real disk usage; it is rebuilt from the directory at start.
///
/// The store never holds more than ``Configuration/maxSize`` bytes of disk,
/// counting everything under its directory: stored files, directories, and
/// the space reserved for writes in flight. A write reserves space before it
/// lands (evicting least recently used, unpinned groups to make room), goes to
/// a temporary file, and becomes visible only on ``CacheWriter/commit()``:
/// fsync, then rename into place. A crash at any moment therefore leaves no
/// partial file where a reader could find it; leftovers in the temporary
/// folder are removed at the next start.
///
/// Layout under the directory:
///
///     CACHEDIR.TAG           marks the folder as a cache for backup tools
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

        public init(
            directory: String, maxSize: Int64, accessTimeResolution: Duration = .seconds(10), memoryBudget: Int = 16 << 20,
            lockWait: Duration = .zero
        ) {
            self.directory = directory
            self.maxSize = maxSize
            self.accessTimeResolution = accessTimeResolution
            self.memoryBudget = memoryBudget
            self.lockWait = lockWait
        }
    }

    public let configuration: Configuration
    /// What loading the index found and did; nil until ``loadIndex()`` ran.
    public var rebuildReport: RebuildReport? { openingReport.withLock { $0 } }
    private let openingReport = Mutex<RebuildReport?>(nil)
    /// Entered until the index is loaded: writes wait on it.
    private let indexGate = DispatchGroup()
    static let blockSize: Int64 = 4096

    private let dataDirectory: Int32
    private let temporaryDirectory: Int32
    private let lockFile: Int32
    private let state: Mutex<State>
    private let resolution: Int64

    struct State {
        var index = CacheIndex()
        /// The store's own folders and files (root, data, tmp, shards, lock, tag).
        var structureUsage: Int64 = 0
        var shardUsage = [Int64?](repeating: nil, count: 256)
        var reserved: Int64 = 0
        /// Groups already removed from the index whose files are being deleted.
        var pendingDeletion: Int64 = 0
        var evictions = 0
        var evictedBytes: Int64 = 0
        var temporaryCounter: UInt64 = 0
        var indexLoaded = false

        var totalUsage: Int64 { index.diskUsage + structureUsage + reserved + pendingDeletion }
    }

    /// Opens (creating when needed) the store at `configuration.directory`
    /// and takes its lock. Files can be read at once; the index, which writes
    /// need, is loaded by ``loadIndex()``.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        self.resolution = Int64(configuration.accessTimeResolution.components.seconds) * 1_000_000_000
            + configuration.accessTimeResolution.components.attoseconds / 1_000_000_000
        let root = configuration.directory
        try Self.makeDirectories(root)
        let rootFD = try FileSystem.openDirectory(root)
        defer { close(rootFD) }

        lockFile = openat(rootFD, "goedge.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try FileSystem.check(lockFile, "open", root + "/goedge.lock")
        let deadline = ContinuousClock.now + configuration.lockWait
        while flock(lockFile, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            if error == EWOULDBLOCK && ContinuousClock.now < deadline {
                usleep(50_000)
                continue
            }
            close(lockFile)
            if error == EWOULDBLOCK { throw DiskCacheError.inUse(directory: root) }
            throw SystemCallError(call: "flock", path: root + "/goedge.lock", errno: error)
        }
        Self.writeCacheDirectoryTag(rootFD)
        try FileSystem.makeDirectory("data", relativeTo: rootFD)
        try FileSystem.makeDirectory("tmp", relativeTo: rootFD)
        dataDirectory = try FileSystem.openDirectory("data", relativeTo: rootFD)
        temporaryDirectory = try FileSystem.openDirectory("tmp", relativeTo: rootFD)
        var initial = State()
        for name in [".", "data", "tmp", "goedge.lock", "CACHEDIR.TAG"] {
            initial.structureUsage += FileSystem.status(name, relativeTo: rootFD)?.diskUsage ?? 0
        }
        state = Mutex(initial)
        indexGate.enter()
    }

    /// Opens the store and loads its index before returning.
    public static func open(configuration: Configuration) throws -> DiskCache {
        let store = try DiskCache(configuration: configuration)
        store.loadIndex()
        return store
    }

    /// Rebuilds the index from the directory, removing leftovers of earlier
    /// runs, and evicts down to the limit if it was lowered. Runs once; later
    /// calls return the first report.
    @discardableResult
    public func loadIndex() -> RebuildReport {
        if let report = rebuildReport { return report }
        let started = ContinuousClock.now
        let rebuild = IndexRebuild(dataDirectory: dataDirectory, temporaryDirectory: temporaryDirectory).run()
        state.withLock { state in
            for group in rebuild.groups.sorted(by: { $0.lastUsed < $1.lastUsed }) {
                state.index.insert(group)
            }
            state.shardUsage = rebuild.shardUsage
            state.structureUsage += rebuild.shardUsage.reduce(0) { $0 + ($1 ?? 0) }
            state.indexLoaded = true
        }
        let evicted = evict(downTo: configuration.maxSize)
        let statistics = statistics()
        let report = RebuildReport(
            groups: statistics.groups, files: statistics.files, diskUsage: statistics.diskUsage,
            removedLeftovers: rebuild.removedLeftovers, evictedGroups: evicted, duration: ContinuousClock.now - started)
        openingReport.withLock { $0 = report }
        indexGate.leave()
        return report
    }

    /// ``loadIndex()`` on a thread of its own; `completion` gets the report.
    public func loadIndexInBackground(completion: @escaping @Sendable (RebuildReport) -> Void) {
        DetachedThread.run { [self] in completion(loadIndex()) }
    }

    public var isIndexLoaded: Bool { state.withLock { $0.indexLoaded } }

    /// Blocks until the index is loaded.
    private func waitForIndex() {
        if !isIndexLoaded { indexGate.wait() }
    }

    deinit {
        close(dataDirectory)
        close(temporaryDirectory)
        close(lockFile)  // releases the flock
    }

    private static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            try FileSystem.makeDirectory(prefix)
            prefix += "/"
        }
    }

    private static func writeCacheDirectoryTag(_ rootFD: Int32) {
        // https://bford.info/cachedir/ — backup tools skip folders holding this file.
        let fd = openat(rootFD, "CACHEDIR.TAG", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let tag = "Signature: 8a477f597d28d172789f06886806bc55\n# This folder is goedge's Go module cache.\n"
        tag.utf8CString.withUnsafeBytes { try? FileSystem.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0.dropLast()), path: "CACHEDIR.TAG") }
        close(fd)
    }

    // MARK: Reading

    /// The complete file for `key`, opened and pinned, or nil when not stored.
    public func lookup(_ key: CacheKey) -> CacheHit? {
        let now = FileSystem.now()
        var loaded = true
        let found: CacheIndex.FileUse? = state.withLock { state in
            loaded = state.indexLoaded
            return state.index.useFile(key, now: now, resolution: resolution, pin: true)
        }
        guard let found else { return loaded ? nil : lookupBeforeIndex(key, now: now) }
        let path = Self.path(of: key)
        let fd = openat(dataDirectory, path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            // Deleted behind our back: forget it.
            state.withLock { state in
                state.index.unpin(key.group, generation: found.generation)
                _ = state.index.removeFile(key)
            }
            return nil
        }
        if found.persistUse { Self.setAccessTime(fd, now) }
        return CacheHit(
            key: key, descriptor: fd, size: found.file.size, storedAt: found.file.storedAt, isStored: true,
            pin: (self, found.generation))
    }

    /// Another handle on the same file, pinned on its own: for each of several
    /// readers of one download.
    public func duplicate(_ hit: CacheHit) -> CacheHit? {
        guard let copy = hit.duplicateDescriptor() else { return nil }
        guard hit.isStored else {
            return CacheHit(key: hit.key, descriptor: copy, size: hit.size, storedAt: hit.storedAt, isStored: false, pin: nil)
        }
        let key = hit.key
        guard let generation = state.withLock({ $0.index.pin(key.group) }) else {
            // The group is gone already: the copy is readable but pins nothing.
            return CacheHit(key: key, descriptor: copy, size: hit.size, storedAt: hit.storedAt, isStored: true, pin: nil)
        }
        return CacheHit(
            key: key, descriptor: copy, size: hit.size, storedAt: hit.storedAt, isStored: true,
            pin: (self, generation))
    }

    /// The content of a small stored file (at most `limit` bytes), from
    /// memory when it was read before; nil when not stored or larger.
    /// Reading it keeps it in memory while the budget allows.
    public func content(_ key: CacheKey, limit: Int) -> (bytes: [UInt8], storedAt: Int64)? {
        let now = FileSystem.now()
        enum Found { case memory([UInt8], Int64, persist: Bool), disk(Int64, Int64), none }
        let found: Found = state.withLock { state in
            guard state.indexLoaded,
                let use = state.index.useFile(key, now: now, resolution: resolution, pin: false, sizeLimit: Int64(limit))
            else { return .none }
            if let content = use.file.content { return .memory(content, use.file.storedAt, persist: use.persistUse) }
            return .disk(use.file.size, use.file.storedAt)
        }
        switch found {
        case .none:
            return nil
        case .memory(let bytes, let storedAt, let persist):
            if persist { FileSystem.setTimes(key.relativePath, relativeTo: dataDirectory, access: now, modification: nil) }
            return (bytes, storedAt)
        case .disk(let size, let storedAt):
            let path = key.relativePath
            let fd = openat(dataDirectory, path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            Self.setAccessTime(fd, now)
            guard let bytes = try? FileSystem.readAll(fd, path: path, limit: Int(size) + 1),
                bytes.count == Int(size)
            else { return nil }
            state.withLock { state in
                if state.index.contentBytes + bytes.count <= configuration.memoryBudget {
                    state.index.setContent(bytes, for: key, storedAt: storedAt)
                }
            }
            return (bytes, storedAt)
        }
    }

    /// While the index loads, a file at its final path is complete (it got
    /// there by rename), so it can be served; it is not pinned, as nothing is
    /// evicted before the index is loaded.
    private func lookupBeforeIndex(_ key: CacheKey, now: Int64) -> CacheHit? {
        let fd = openat(dataDirectory, Self.path(of: key), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        guard let status = FileSystem.status(of: fd), status.isRegularFile else {
            close(fd)
            return nil
        }
        Self.setAccessTime(fd, now)
        return CacheHit(key: key, descriptor: fd, size: status.size, storedAt: status.modificationTime, isStored: true, pin: nil)
    }

    /// Facts about a stored file without opening it.
    public func info(_ key: CacheKey) -> StoredFileInfo? {
        let indexed: (StoredFileInfo?, Bool) = state.withLock { state in
            (state.index.file(key).map { StoredFileInfo(size: $0.size, diskUsage: $0.diskUsage, storedAt: $0.storedAt) }, state.indexLoaded)
        }
        if indexed.1 { return indexed.0 }
        return FileSystem.status(Self.path(of: key), relativeTo: dataDirectory).map {
            StoredFileInfo(size: $0.size, diskUsage: $0.diskUsage, storedAt: $0.modificationTime)
        }
    }

    /// Records that a stored file's content was confirmed as current now
    /// (an upstream revalidation answered "not modified").
    public func markRevalidated(_ key: CacheKey) {
        let now = FileSystem.now()
        let stored = state.withLock { state in
            guard state.index.file(key) != nil else { return false }
            state.index.setStoredAt(key, to: now)
            return true
        }
        if stored || !isIndexLoaded {
            FileSystem.setTimes(Self.path(of: key), relativeTo: dataDirectory, access: now, modification: now)
        }
    }

    // MARK: Writing

    /// Starts writing `key`. Space for `expectedSize` (when known) is reserved
    /// at once; more is reserved as the write grows.
    public func makeWriter(for key: CacheKey, expectedSize: Int64?) throws -> CacheWriter {
        waitForIndex()
        let (name, newGroup) = state.withLock { state in
            state.temporaryCounter += 1
            return ("\(getpid())-\(state.temporaryCounter).part", state.index.group(key.group) == nil)
        }
        let fd = openat(temporaryDirectory, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        try FileSystem.check(fd, "open", "tmp/" + name)
        let writer = CacheWriter(key: key, store: self, descriptor: fd, temporaryName: name)
        // A new group also needs a directory.
        writer.reserveInitially(Self.usageEstimate(forSize: expectedSize ?? 0) + (newGroup ? Self.blockSize : 0))
        return writer
    }

    /// Disk usage a file of `size` bytes may need: whole blocks, plus one for
    /// file-system metadata. Trued up with the real figure at commit.
    static func usageEstimate(forSize size: Int64) -> Int64 {
        (size + blockSize - 1) / blockSize * blockSize + blockSize
    }

    /// Reserves `bytes`, evicting least recently used unpinned groups to make
    /// room. False when even that cannot make room.
    func reserve(_ bytes: Int64) -> Bool {
        guard bytes > 0 else { return true }
        // Each round evicts at least one group or waits for deletions others
        // started; the bound only stops a pathological loop.
        for _ in 0..<1000 {
            var trash: [Trash] = []
            let outcome: Bool? = state.withLock { state in
                if state.totalUsage + bytes <= configuration.maxSize {
                    state.reserved += bytes
                    return true
                }
                // Never empty the cache for a file that would not fit even then.
                let evictable = state.index.evictionCandidates().reduce(0) { $0 + $1.diskUsage }
                if state.totalUsage - evictable - state.pendingDeletion + bytes > configuration.maxSize { return false }
                trash = evict(shortfall: state.totalUsage + bytes - configuration.maxSize, &state)
                if trash.isEmpty && state.pendingDeletion == 0 { return false }
                return nil
            }
            if let outcome { return outcome }
            if trash.isEmpty { usleep(1000) } else { delete(trash) }
        }
        return false
    }

    func unpin(_ key: CacheKey, generation: UInt64) {
        state.withLock { $0.index.unpin(key.group, generation: generation) }
    }

    func releaseReservation(_ bytes: Int64) {
        guard bytes > 0 else { return }
        state.withLock { $0.reserved -= bytes }
    }

    /// Moves the temporary file into place and indexes it; returns it opened
    /// and pinned. The caller has written and synced the file.
    func commit(_ writer: CacheWriter, size: Int64) throws -> CacheHit {
        let key = writer.key
        let now = FileSystem.now()
        let shard = GroupDirectoryName.shard(of: key.group)
        let shardName = GroupDirectoryName.shardDirectoryName(shard)
        let groupPath = shardName + "/" + key.directoryName
        let filePath = groupPath + "/" + key.name
        var trash: [Trash] = []
        defer { delete(trash) }
        var generation: UInt64 = 0
        let (fd, file): (Int32, CacheIndex.File) = try state.withLock { state in
            if state.shardUsage[Int(shard)] == nil {
                try FileSystem.makeDirectory(shardName, relativeTo: dataDirectory)
                state.shardUsage[Int(shard)] = 0
            }
            var directoryUsage: Int64 = 0
            let newGroup = state.index.group(key.group) == nil
            if newGroup {
                try FileSystem.makeDirectory(groupPath, relativeTo: dataDirectory)
                directoryUsage = FileSystem.status(groupPath, relativeTo: dataDirectory)?.diskUsage ?? Self.blockSize
            }
            if renameat(temporaryDirectory, writer.temporaryName, dataDirectory, filePath) != 0 {
                // The group's directory vanished (deleted by hand): make it again, once.
                guard errno == ENOENT else { throw SystemCallError(call: "rename", path: filePath, errno: errno) }
                try FileSystem.makeDirectory(groupPath, relativeTo: dataDirectory)
                try FileSystem.check(
                    renameat(temporaryDirectory, writer.temporaryName, dataDirectory, filePath), "rename", filePath)
            }
            if newGroup { updateShardUsage(shard, &state) }
            let status = FileSystem.status(filePath, relativeTo: dataDirectory)
            let file = CacheIndex.File(
                name: key.name, size: size, diskUsage: status?.diskUsage ?? Self.usageEstimate(forSize: size),
                storedAt: status?.modificationTime ?? now)
            state.index.store(file, inGroup: key.group, directoryUsage: directoryUsage, now: now)
            // The reservation has become the file's usage.
            state.reserved -= writer.reserved
            writer.reserved = 0
            let fd = openat(dataDirectory, filePath, O_RDONLY | O_CLOEXEC)
            try FileSystem.check(fd, "open", filePath)
            generation = state.index.pin(key.group) ?? 0
            // The estimate may have been short by a block: restore the bound.
            let excess = state.totalUsage - configuration.maxSize
            if excess > 0 { trash = evict(shortfall: excess, &state) }
            return (fd, file)
        }
        return CacheHit(
            key: key, descriptor: fd, size: file.size, storedAt: file.storedAt, isStored: true,
            pin: (self, generation))
    }

    private func updateShardUsage(_ shard: UInt8, _ state: inout State) {
        let name = GroupDirectoryName.shardDirectoryName(shard)
        let usage = FileSystem.status(name, relativeTo: dataDirectory)?.diskUsage ?? Self.blockSize
        state.structureUsage += usage - (state.shardUsage[Int(shard)] ?? 0)
        state.shardUsage[Int(shard)] = usage
    }

    /// Opens a temporary file for reading and unlinks it: the content of a
    /// write the store had no room for, readable until the hit is released.
    func passThrough(_ writer: CacheWriter, size: Int64) throws -> CacheHit {
        let fd = openat(temporaryDirectory, writer.temporaryName, O_RDONLY | O_CLOEXEC)
        try FileSystem.check(fd, "open", "tmp/" + writer.temporaryName)
        unlinkat(temporaryDirectory, writer.temporaryName, 0)
        return CacheHit(key: writer.key, descriptor: fd, size: size, storedAt: FileSystem.now(), isStored: false, pin: nil)
    }

    func discardTemporaryFile(_ name: String) {
        unlinkat(temporaryDirectory, name, 0)
    }

    // MARK: Removing

    /// Removes a group and its files (pinned readers keep their open files).
    @discardableResult
    public func remove(group: String) -> Bool {
        waitForIndex()
        var trash: [Trash] = []
        state.withLock { state in
            if let removed = moveToTrash(group, &state) { trash.append(removed) }
        }
        delete(trash)
        return !trash.isEmpty
    }

    /// Evicts least recently used groups until the store uses at most `size` bytes.
    /// Returns the number of groups evicted.
    @discardableResult
    public func evict(downTo size: Int64) -> Int {
        waitForIndex()
        var trash: [Trash] = []
        state.withLock { state in
            let excess = state.totalUsage - size
            if excess > 0 { trash = evict(shortfall: excess, &state) }
        }
        delete(trash)
        return trash.count
    }

    struct Trash {
        var name: String?
        var usage: Int64
    }

    /// Removes least recently used unpinned groups from the index until
    /// `shortfall` bytes are freed, moving their folders to the trash.
    private func evict(shortfall: Int64, _ state: inout State) -> [Trash] {
        var victims: [String] = []
        var freed: Int64 = 0
        for group in state.index.evictionCandidates() {
            if freed >= shortfall { break }
            victims.append(group.key)
            freed += group.diskUsage
        }
        var trash: [Trash] = []
        for victim in victims {
            if let removed = moveToTrash(victim, &state) {
                trash.append(removed)
                state.evictions += 1
                state.evictedBytes += removed.usage
            }
        }
        return trash
    }

    /// Takes a group out of the index and renames its folder into tmp/, so
    /// that a commit into the same group cannot meet a half-deleted folder.
    /// Its space stays counted as pending until ``delete(_:)`` frees it.
    private func moveToTrash(_ group: String, _ state: inout State) -> Trash? {
        guard let removed = state.index.removeGroup(group) else { return nil }
        state.temporaryCounter += 1
        let shardName = GroupDirectoryName.shardDirectoryName(GroupDirectoryName.shard(of: group))
        let source = shardName + "/" + (GroupDirectoryName.encode(group) ?? "")
        let target = "\(getpid())-\(state.temporaryCounter).evicted"
        guard renameat(dataDirectory, source, temporaryDirectory, target) == 0 else {
            return Trash(name: nil, usage: 0)
        }
        state.pendingDeletion += removed.diskUsage
        return Trash(name: target, usage: removed.diskUsage)
    }

    private func delete(_ trash: [Trash]) {
        guard !trash.isEmpty else { return }
        for item in trash {
            if let name = item.name { FileSystem.removeTree(name, relativeTo: temporaryDirectory) }
        }
        let freed = trash.reduce(0) { $0 + $1.usage }
        state.withLock { $0.pendingDeletion -= freed }
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

    // MARK: Paths

    static func path(of key: CacheKey) -> String { key.relativePath }

    private static func setAccessTime(_ fd: Int32, _ time: Int64) {
        var times = [
            timespec(tv_sec: Int(time / 1_000_000_000), tv_nsec: Int(time % 1_000_000_000)),
            timespec(tv_sec: 0, tv_nsec: FileSystem.omitTime),
        ]
        futimens(fd, &times)
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
