#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Removing groups: eviction by recency, removal on request, and the
/// deletion of their folders outside the lock.
extension DiskCache {
    /// A group taken out of the index whose files are still to be deleted.
    struct Victim: Sendable {
        var group: String
        var usage: Int64
        /// The files goedge stored in it: those, and only those, are deleted.
        var files: [String]
    }

    /// Removes a group and its files (pinned readers keep their open files).
    /// The folder is deleted before this returns. Needs the loaded index.
    @discardableResult
    public func remove(group: String) -> Bool {
        let victim: Victim? = state.withLock { state in
            guard state.indexLoaded, let removed = state.index.removeGroup(group) else { return nil }
            return takeOut(removed, &state)
        }
        guard let victim else { return false }
        delete([victim])
        return true
    }

    /// Evicts least recently used groups until the store uses at most
    /// `size` bytes; returns how many. Folders are deleted before this
    /// returns. Needs the loaded index.
    @discardableResult
    public func evict(downTo size: Int64) -> Int {
        let victims: [Victim] = state.withLock { state in
            guard state.indexLoaded else { return [] }
            let excess = state.totalUsage - size
            return excess > 0 ? evict(shortfall: excess, &state) : []
        }
        delete(victims)
        return victims.count
    }

    /// A stored file turned out damaged (replaced, shortened, a link): its
    /// whole group goes, as a download that fails its check would.
    public func removeDamaged(_ key: CacheKey) {
        let victim: Victim? = state.withLock { state in
            guard let removed = state.index.removeGroup(key.group) else { return nil }
            return takeOut(removed, &state)
        }
        deleteInBackground(victim.map { [$0] } ?? [])
    }

    /// Takes least recently used groups out of the index until `shortfall`
    /// bytes are freed. Groups a reader holds or a commit is writing into
    /// stay. Only the index changes here: the caller deletes the folders.
    func evict(shortfall: Int64, _ state: inout State) -> [Victim] {
        var chosen: [CacheIndex.Group] = []
        var freed: Int64 = 0
        for group in state.index.evictionCandidates() where state.commitsInFlight[group.key] == nil {
            if freed >= shortfall { break }
            chosen.append(group)
            freed += group.diskUsage
        }
        var victims: [Victim] = []
        for group in chosen {
            guard let removed = state.index.removeGroup(group.key) else { continue }
            victims.append(takeOut(removed, &state))
            state.evictions += 1
            state.evictedBytes += removed.diskUsage
        }
        return victims
    }

    /// Marks a group removed from the index as leaving: a commit into it
    /// waits until its files are deleted.
    private func takeOut(_ group: CacheIndex.Group, _ state: inout State) -> Victim {
        if state.leaving[group.key] == nil { state.leaving[group.key] = Settlement() }
        state.deletionsUnderWay += 1
        return Victim(group: group.key, usage: group.diskUsage, files: group.files.map(\.name))
    }

    /// Returns once no evicted folder is left to delete (the disk then
    /// agrees with the accounts), without holding a thread.
    public func deletionsFinished() async {
        let done: Settlement<Void>? = state.withLock { state in
            guard state.deletionsUnderWay > 0 else { return nil }
            if state.deletionsDone == nil { state.deletionsDone = Settlement() }
            return state.deletionsDone
        }
        await done?.value
    }

    /// Deletes victims' folders on the blocking-work pool.
    func deleteInBackground(_ victims: [Victim]) {
        guard !victims.isEmpty else { return }
        BlockingIO.submit { [self] in delete(victims) }
    }

    /// Deletes each victim's files, then its folder if nothing else is in
    /// it (goedge never deletes what it did not put there), then lets the
    /// commits waiting for that group go on.
    private func delete(_ victims: [Victim]) {
        for victim in victims {
            let shardName = GroupDirectoryName.shardDirectoryName(GroupDirectoryName.shard(of: victim.group))
            let folder = shardName + "/" + (GroupDirectoryName.encode(victim.group) ?? "")
            let fd = openat(dataDirectory, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                for name in victim.files { unlinkat(fd, name, 0) }
                close(fd)
                unlinkat(dataDirectory, folder, AT_REMOVEDIR)
            }
            let (gone, done): (Settlement<Void>?, Settlement<Void>?) = state.withLock { state in
                let gone = state.leaving.removeValue(forKey: victim.group)
                state.deletionsUnderWay -= 1
                guard state.deletionsUnderWay == 0 else { return (gone, nil) }
                defer { state.deletionsDone = nil }
                return (gone, state.deletionsDone)
            }
            gone?.settle(())
            done?.settle(())
        }
    }
}
