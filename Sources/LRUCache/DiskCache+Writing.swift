#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writing: reserving room, and committing a written file into place.
extension DiskCache {
    /// Starts writing `key`. Space for `expectedSize` (when known) is reserved
    /// at once; more is reserved as the write grows. Never waits: before the
    /// index is loaded, the reservation is made at the commit.
    public func makeWriter(for key: CacheKey, expectedSize: Int64?) throws -> CacheWriter {
        let (name, newGroup) = state.withLock { state in
            (state.nextTemporaryName("part"), state.index.group(key.group) == nil)
        }
        let fd = openat(temporaryDirectory, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o644)
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

    /// What a reservation came to.
    enum Reservation {
        case granted
        /// There is no room, even if every group no reader holds were evicted.
        case noRoom
        /// The index is not loaded yet: nobody can tell.
        case unknown

        var isGranted: Bool {
            if case .granted = self { true } else { false }
        }
    }

    /// Reserves `bytes`, evicting least recently used unpinned groups to make
    /// room. The check is O(1) (a running total of what eviction could free);
    /// the evicted groups leave the accounts at once and their folders are
    /// deleted on the blocking-work pool, as bazel-remote does.
    func reserve(_ bytes: Int64) -> Reservation {
        guard bytes > 0 else { return .granted }
        // The limit may be larger than the disk: what the file system has left counts too.
        guard hasDiskSpace(for: bytes) else { return .noRoom }
        var victims: [Victim] = []
        let outcome: Reservation = state.withLock { state in
            guard state.indexLoaded else { return .unknown }
            let shortfall = state.totalUsage + bytes - configuration.maxSize
            if shortfall <= 0 {
                state.reserved += bytes
                return .granted
            }
            // Never empty the cache for a file that would not fit even then.
            guard state.index.evictableUsage >= shortfall else { return .noRoom }
            victims = evict(shortfall: shortfall, &state)
            guard victims.reduce(0, { $0 + $1.usage }) >= shortfall else { return .noRoom }
            state.reserved += bytes
            return .granted
        }
        deleteInBackground(victims)
        return outcome
    }

    /// Whether the file system has `bytes` to spare (and a little more for
    /// its own bookkeeping); remembers the answer for ``isDiskFull``.
    private func hasDiskSpace(for bytes: Int64) -> Bool {
        var facts = statvfs()
        guard fstatvfs(dataDirectory, &facts) == 0 else { return true }
        let available = Int64(facts.f_bavail) * Int64(facts.f_frsize)
        let enough = available >= bytes + 16 * Self.blockSize
        diskFull.store(!enough, ordering: .relaxed)
        return enough
    }

    /// The file system had no space for the last write that asked (or a
    /// write failed for lack of it): files are passed to clients, not stored.
    public var isDiskFull: Bool { diskFull.load(ordering: .relaxed) }

    /// A write failed for lack of space.
    func noteDiskFull() {
        diskFull.store(true, ordering: .relaxed)
    }

    func releaseReservation(_ bytes: Int64) {
        guard bytes > 0 else { return }
        state.withLock { $0.reserved -= bytes }
    }

    /// Syncs the written file, moves it into place and indexes it; returns it
    /// opened and pinned. The disk work runs on the blocking-work pool; only
    /// the index changes under the lock.
    func commit(_ writer: CacheWriter) async throws -> CacheHit {
        let key = writer.key
        let size = writer.bytesWritten
        await waitForIndex()
        if writer.reservationDeferred {
            writer.reservationDeferred = false
            let needed = Self.usageEstimate(forSize: size) + Self.blockSize
            if !writer.reservation.grow(by: needed).isGranted { writer.isStoring = false }
        }
        guard writer.isStoring else { return try await BlockingIO.run { try self.passThrough(writer, size: size) } }
        await enterCommit(key.group)
        let placed: Placement
        let now = configuration.now()
        do {
            placed = try await BlockingIO.run { try self.place(writer, at: now) }
        } catch {
            state.withLock { $0.leaveCommit(key.group) }
            throw error
        }
        var victims: [Victim] = []
        let pin: CacheIndex.GroupPin? = state.withLock { state in
            state.leaveCommit(key.group)
            if let usage = placed.shardUsage {
                state.structureUsage += usage - (state.shardUsage[Int(placed.shard)] ?? 0)
                state.shardUsage[Int(placed.shard)] = usage
            }
            let file = CacheIndex.File(name: key.name, size: size, diskUsage: placed.diskUsage, storedAt: now)
            state.index.store(file, inGroup: key.group, directoryUsage: placed.directoryUsage, now: now)
            // The reservation has become the file's usage.
            writer.reservation.becomeUsage(&state)
            let pin = state.index.pin(key.group)
            // The estimate may have been short by a block: restore the bound.
            let excess = state.totalUsage - configuration.maxSize
            if excess > 0 { victims = evict(shortfall: excess, &state) }
            return pin
        }
        deleteInBackground(victims)
        return CacheHit(
            key: key, descriptor: placed.descriptor, size: size, storedAt: now, isStored: true,
            pin: pin.map { (self, $0) })
    }

    /// Counts a commit into `group` in, once no folder of that group is on
    /// its way out of data/ (the commit would land in it).
    private func enterCommit(_ group: String) async {
        while true {
            let leaving: Settlement<Void>? = state.withLock { state in
                if let leaving = state.leaving[group] { return leaving }
                state.commitsInFlight[group, default: 0] += 1
                return nil
            }
            guard let leaving else { return }
            await leaving.value
        }
    }

    /// Where a committed file landed, and what it and its folders use.
    struct Placement: Sendable {
        var descriptor: Int32
        var shard: UInt8
        var shardUsage: Int64?
        var directoryUsage: Int64
        var diskUsage: Int64
    }

    /// The disk work of a commit: fsync, folders, rename, and the file
    /// opened again for the reader.
    private func place(_ writer: CacheWriter, at now: Int64) throws -> Placement {
        try writer.sync()
        let key = writer.key
        let shard = GroupDirectoryName.shard(of: key.group)
        let shardName = GroupDirectoryName.shardDirectoryName(shard)
        let groupPath = shardName + "/" + key.directoryName
        let filePath = groupPath + "/" + key.name
        try FileSystem.makeDirectory(shardName, relativeTo: dataDirectory)
        try FileSystem.makeDirectory(groupPath, relativeTo: dataDirectory)
        if renameat(temporaryDirectory, writer.temporaryName, dataDirectory, filePath) != 0 {
            // The group's folder vanished meanwhile (deleted by hand): make it again, once.
            guard errno == ENOENT else { throw SystemCallError(call: "rename", path: filePath, errno: errno) }
            try FileSystem.makeDirectory(groupPath, relativeTo: dataDirectory)
            try FileSystem.check(renameat(temporaryDirectory, writer.temporaryName, dataDirectory, filePath), "rename", filePath)
        }
        writer.landed()
        let fd = openat(dataDirectory, filePath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        try FileSystem.check(fd, "open", filePath)
        // Stored and used now, to the nanosecond: the order a restart reads back.
        Self.setTimes(fd, access: now, modification: now)
        let status = FileSystem.status(of: fd)
        return Placement(
            descriptor: fd, shard: shard, shardUsage: FileSystem.status(shardName, relativeTo: dataDirectory)?.diskUsage,
            directoryUsage: FileSystem.status(groupPath, relativeTo: dataDirectory)?.diskUsage ?? Self.blockSize,
            diskUsage: status?.diskUsage ?? Self.usageEstimate(forSize: writer.bytesWritten))
    }

    /// Opens a temporary file for reading and unlinks it: the content of a
    /// write the store had no room for, readable until the hit is released.
    private func passThrough(_ writer: CacheWriter, size: Int64) throws -> CacheHit {
        let fd = openat(temporaryDirectory, writer.temporaryName, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        try FileSystem.check(fd, "open", "tmp/" + writer.temporaryName)
        unlinkat(temporaryDirectory, writer.temporaryName, 0)
        writer.landed()
        return CacheHit(key: writer.key, descriptor: fd, size: size, storedAt: configuration.now(), isStored: false, pin: nil)
    }

    func discardTemporaryFile(_ name: String) {
        unlinkat(temporaryDirectory, name, 0)
    }
}

extension DiskCache.State {
    mutating func leaveCommit(_ group: String) {
        if let count = commitsInFlight[group], count > 1 {
            commitsInFlight[group] = count - 1
        } else {
            commitsInFlight.removeValue(forKey: group)
        }
    }
}
