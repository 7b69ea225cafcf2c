#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reading: lookups that pin what they hand out, small files from memory,
/// and the checks that keep a damaged file from ever being served.
extension DiskCache {
    /// The complete file for `key`, opened and pinned, or nil when not stored.
    ///
    /// The file is opened without following links and its size checked
    /// against the index: a file that was replaced, shrank or grew is damage,
    /// and its group is removed rather than served. An entry is forgotten
    /// when its file is gone (ENOENT) and kept on any other failure (out of
    /// descriptors, say), so that it is served again once that passes.
    public func lookup(_ key: CacheKey) -> CacheHit? {
        let now = configuration.now()
        var loaded = true
        let found: CacheIndex.FileUse? = state.withLock { state in
            loaded = state.indexLoaded
            return state.index.useFile(key, now: now, resolution: resolution, pin: true)
        }
        guard let found else { return loaded ? nil : lookupBeforeIndex(key, now: now) }
        let path = key.relativePath
        let fd = openat(dataDirectory, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let error = errno
            unpin(found.pin)
            switch error {
            case ENOENT: forget(key)
            case ELOOP: removeDamaged(key)
            default: break
            }
            return nil
        }
        guard let status = FileSystem.status(of: fd), status.isRegularFile, status.size == found.file.size else {
            close(fd)
            unpin(found.pin)
            removeDamaged(key)
            return nil
        }
        if found.persistUse { Self.setAccessTime(fd, now) }
        return CacheHit(
            key: key, descriptor: fd, size: found.file.size, storedAt: found.file.storedAt, isStored: true,
            pin: (self, found.pin))
    }

    /// Another handle on the same file, pinned on its own: for each of several
    /// readers of one download.
    public func duplicate(_ hit: CacheHit) -> CacheHit? {
        guard let copy = hit.duplicateDescriptor() else { return nil }
        guard hit.isStored else {
            return CacheHit(key: hit.key, descriptor: copy, size: hit.size, storedAt: hit.storedAt, isStored: false, pin: nil)
        }
        let key = hit.key
        guard let pin = state.withLock({ $0.index.pin(key.group) }) else {
            // The group is gone already: the copy is readable but pins nothing.
            return CacheHit(key: key, descriptor: copy, size: hit.size, storedAt: hit.storedAt, isStored: true, pin: nil)
        }
        return CacheHit(
            key: key, descriptor: copy, size: hit.size, storedAt: hit.storedAt, isStored: true,
            pin: (self, pin))
    }

    /// The content of a small stored file (at most `limit` bytes), from
    /// memory when it was read before; nil when not stored or larger.
    /// Reading it keeps it in memory while the budget allows.
    public func content(_ key: CacheKey, limit: Int) -> (bytes: [UInt8], storedAt: Int64)? {
        let now = configuration.now()
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
            let fd = openat(dataDirectory, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else {
                if errno == ENOENT { forget(key) }
                return nil
            }
            defer { close(fd) }
            Self.setAccessTime(fd, now)
            guard let bytes = try? FileSystem.readAll(fd, path: path, limit: Int(size) + 1) else { return nil }
            guard bytes.count == Int(size) else {
                removeDamaged(key)
                return nil
            }
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
    func lookupBeforeIndex(_ key: CacheKey, now: Int64) -> CacheHit? {
        let fd = openat(dataDirectory, key.relativePath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
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
        return FileSystem.status(key.relativePath, relativeTo: dataDirectory).map {
            StoredFileInfo(size: $0.size, diskUsage: $0.diskUsage, storedAt: $0.modificationTime)
        }
    }

    /// The content of a small stored file without counting a use (for a
    /// listing, which must not reorder what is evicted first); nil when not
    /// stored, larger than `limit`, or not whole.
    public func peek(_ key: CacheKey, limit: Int) -> [UInt8]? {
        let indexed: (content: [UInt8]?, size: Int64)? = state.withLock { state in
            state.index.file(key).map { ($0.content, $0.size) }
        }
        guard let indexed, indexed.size <= Int64(limit) else { return nil }
        if let content = indexed.content { return content }
        let fd = openat(dataDirectory, key.relativePath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let bytes = try? FileSystem.readAll(fd, path: key.relativePath, limit: Int(indexed.size) + 1),
            bytes.count == Int(indexed.size)
        else { return nil }
        return bytes
    }

    /// Records that a stored file's content was confirmed as current now
    /// (an upstream revalidation answered "not modified").
    public func markRevalidated(_ key: CacheKey) {
        let now = configuration.now()
        let stored = state.withLock { state in
            guard state.index.file(key) != nil else { return false }
            state.index.setStoredAt(key, to: now)
            return true
        }
        if stored || !isIndexLoaded {
            FileSystem.setTimes(key.relativePath, relativeTo: dataDirectory, access: now, modification: now)
        }
    }
}
