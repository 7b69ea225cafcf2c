#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// What rebuilding the index from the directory found.
public struct RebuildReport: Sendable {
    public var groups: Int
    public var files: Int
    public var diskUsage: Int64
    /// Files of interrupted writes and deletions (goedge's own temporary files), removed.
    public var removedLeftovers: Int
    /// Entries in the folder that goedge did not make: left alone, their
    /// space counted as used.
    public var foreignEntries: Int
    /// Groups evicted because the store was over its (possibly lowered) limit.
    public var evictedGroups: Int
    public var duration: Duration
}

/// Rebuilds the in-memory index from the data folder, the way bazel-remote
/// does at start: every group folder is listed and every file stat'ed; the
/// last use of a group is the newest access time among its files.
///
/// Only what goedge itself makes is touched: its temporary files, and group
/// folders left empty. Anything else found in the folder is left where it
/// is and counted, so the limit still holds.
struct IndexRebuild {
    struct Result {
        var groups: [CacheIndex.Group] = []
        var shardUsage = [Int64?](repeating: nil, count: 256)
        var removedLeftovers = 0
        var foreignEntries = 0
        var foreignUsage: Int64 = 0

        mutating func merge(_ other: Result) {
            groups += other.groups
            for (shard, usage) in other.shardUsage.enumerated() where usage != nil { shardUsage[shard] = usage }
            removedLeftovers += other.removedLeftovers
            foreignEntries += other.foreignEntries
            foreignUsage += other.foreignUsage
        }
    }

    typealias Shard = (number: UInt8, name: String)

    let dataDirectory: Int32
    let temporaryDirectory: Int32
    /// This process's temporary files begin so: writes already under way, not leftovers.
    let ownPrefix: String

    /// Clears goedge's leftovers from tmp/ and lists the shard folders to scan.
    func prepare() -> (shards: [Shard], result: Result) {
        var result = Result()
        // goedge's files in tmp/ belong to a write or a deletion that never finished.
        for entry in (try? FileSystem.list(".", relativeTo: temporaryDirectory)) ?? [] {
            if entry.name.hasPrefix(ownPrefix + "-") { continue }
            if CacheFolder.isOwnTemporaryName(entry.name) {
                FileSystem.removeTree(entry.name, relativeTo: temporaryDirectory)
                result.removedLeftovers += 1
            } else {
                noteForeign(entry.name, relativeTo: temporaryDirectory, &result)
            }
        }
        var shards: [Shard] = []
        for entry in (try? FileSystem.list(".", relativeTo: dataDirectory)) ?? [] {
            if let shard = Self.shardNumber(entry.name), entry.isDirectory != false {
                shards.append((shard, entry.name))
            } else {
                noteForeign(entry.name, relativeTo: dataDirectory, &result)
            }
        }
        return (shards, result)
    }

    /// Scans shard folders: every `stride`-th one from `first`.
    func scan(_ shards: [Shard], first: Int = 0, stride: Int = 1) -> Result {
        var result = Result()
        for position in Swift.stride(from: first, to: shards.count, by: max(1, stride)) {
            scanShard(shards[position], into: &result)
        }
        return result
    }

    private func scanShard(_ shard: Shard, into result: inout Result) {
        guard let shardFD = try? FileSystem.openDirectory(shard.name, relativeTo: dataDirectory) else { return }
        defer { close(shardFD) }
        result.shardUsage[Int(shard.number)] = FileSystem.status(of: shardFD)?.diskUsage ?? 0
        for entry in (try? FileSystem.list(".", relativeTo: shardFD)) ?? [] {
            guard entry.isDirectory != false, let key = GroupDirectoryName.decode(entry.name),
                GroupDirectoryName.shard(of: key) == shard.number,
                let groupFD = try? FileSystem.openDirectory(entry.name, relativeTo: shardFD)
            else {
                noteForeign(entry.name, relativeTo: shardFD, &result)
                continue
            }
            let directoryUsage = FileSystem.status(of: groupFD)?.diskUsage ?? DiskCache.blockSize
            // The listing consumes the descriptor; keep one for the stats.
            let statFD = dup(groupFD)
            defer { close(statFD) }
            var files: [CacheIndex.File] = []
            var lastUsed: Int64 = 0
            var foreign = false
            for fileEntry in (try? FileSystem.list(takingOwnershipOf: groupFD, path: entry.name)) ?? [] {
                guard CacheKey.isValidFileName(fileEntry.name), fileEntry.isDirectory != true,
                    let status = FileSystem.status(fileEntry.name, relativeTo: statFD), status.isRegularFile
                else {
                    noteForeign(fileEntry.name, relativeTo: statFD, &result)
                    foreign = true
                    continue
                }
                files.append(
                    CacheIndex.File(
                        name: fileEntry.name, size: status.size, diskUsage: status.diskUsage,
                        storedAt: status.modificationTime))
                lastUsed = max(lastUsed, status.accessTime, status.modificationTime)
            }
            if files.isEmpty {
                // A group folder goedge left empty goes; one holding something else stays.
                if !foreign { unlinkat(shardFD, entry.name, AT_REMOVEDIR) } else { result.foreignUsage += directoryUsage }
                continue
            }
            result.groups.append(
                CacheIndex.Group(
                    key: key, files: files, directoryUsage: directoryUsage, lastUsed: lastUsed,
                    persistedUse: lastUsed, pins: 0))
        }
    }

    /// Something goedge did not make: left alone, its space counted.
    private func noteForeign(_ name: String, relativeTo directory: Int32, _ result: inout Result) {
        result.foreignEntries += 1
        result.foreignUsage += FileSystem.treeUsage(name, relativeTo: directory)
    }

    private static func shardNumber(_ name: String) -> UInt8? {
        guard name.utf8.count == 2, let value = UInt8(name, radix: 16),
            GroupDirectoryName.shardDirectoryName(value) == name
        else { return nil }
        return value
    }
}
