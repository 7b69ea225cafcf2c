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
    /// Temporary files of interrupted writes, and anything in the data folder
    /// that the store did not put there, all removed.
    public var removedLeftovers: Int
    /// Groups evicted because the store was over its (possibly lowered) limit.
    public var evictedGroups: Int
    public var duration: Duration
}

/// Rebuilds the in-memory index from the data folder, the way bazel-remote
/// does at start: every group folder is listed and every file stat'ed; the
/// last use of a group is the newest access time among its files. The 256
/// shards are scanned by two threads.
struct IndexRebuild {
    struct Result {
        var groups: [CacheIndex.Group] = []
        var shardUsage = [Int64?](repeating: nil, count: 256)
        var removedLeftovers = 0

        mutating func merge(_ other: Result) {
            groups += other.groups
            for (shard, usage) in other.shardUsage.enumerated() where usage != nil { shardUsage[shard] = usage }
            removedLeftovers += other.removedLeftovers
        }
    }

    let dataDirectory: Int32
    let temporaryDirectory: Int32

    func run() -> Result {
        var result = Result()
        // Whatever is in tmp/ belongs to a write or a deletion that never finished.
        for entry in (try? FileSystem.list(".", relativeTo: temporaryDirectory)) ?? [] {
            FileSystem.removeTree(entry.name, relativeTo: temporaryDirectory)
            result.removedLeftovers += 1
        }
        var shards: [(UInt8, String)] = []
        for entry in (try? FileSystem.list(".", relativeTo: dataDirectory)) ?? [] {
            if let shard = Self.shardNumber(entry.name), entry.isDirectory != false {
                shards.append((shard, entry.name))
            } else {
                FileSystem.removeTree(entry.name, relativeTo: dataDirectory)
                result.removedLeftovers += 1
            }
        }
        let partial = Mutex(result)
        let workers = 2
        let shardsToScan = shards
        DetachedThread.runAll(workers) { worker in
            var mine = Result()
            for (shard, name) in shardsToScan.enumerated().filter({ $0.offset % workers == worker }).map(\.element) {
                scanShard(shard, name, into: &mine)
            }
            partial.withLock { $0.merge(mine) }
        }
        return partial.withLock { $0 }
    }

    private func scanShard(_ shard: UInt8, _ name: String, into result: inout Result) {
        guard let shardFD = try? FileSystem.openDirectory(name, relativeTo: dataDirectory) else { return }
        defer { close(shardFD) }
        result.shardUsage[Int(shard)] = FileSystem.status(of: shardFD)?.diskUsage ?? 0
        for entry in (try? FileSystem.list(".", relativeTo: shardFD)) ?? [] {
            guard entry.isDirectory != false, let key = GroupDirectoryName.decode(entry.name),
                GroupDirectoryName.shard(of: key) == shard,
                let groupFD = try? FileSystem.openDirectory(entry.name, relativeTo: shardFD)
            else {
                removeLeftover(entry.name, relativeTo: shardFD, &result)
                continue
            }
            let directoryUsage = FileSystem.status(of: groupFD)?.diskUsage ?? DiskCache.blockSize
            // The listing consumes the descriptor; keep one for the stats.
            let statFD = dup(groupFD)
            defer { close(statFD) }
            var files: [CacheIndex.File] = []
            var lastUsed: Int64 = 0
            for fileEntry in (try? FileSystem.list(takingOwnershipOf: groupFD, path: entry.name)) ?? [] {
                guard CacheKey.isValidFileName(fileEntry.name), fileEntry.isDirectory != true,
                    let status = FileSystem.status(fileEntry.name, relativeTo: statFD), status.isRegularFile
                else {
                    removeLeftover(fileEntry.name, relativeTo: statFD, &result)
                    continue
                }
                files.append(
                    CacheIndex.File(
                        name: fileEntry.name, size: status.size, diskUsage: status.diskUsage,
                        storedAt: status.modificationTime))
                lastUsed = max(lastUsed, status.accessTime, status.modificationTime)
            }
            if files.isEmpty {
                unlinkat(shardFD, entry.name, AT_REMOVEDIR)
                continue
            }
            result.groups.append(
                CacheIndex.Group(
                    key: key, files: files, directoryUsage: directoryUsage, lastUsed: lastUsed,
                    persistedUse: lastUsed, pins: 0))
        }
    }

    private func removeLeftover(_ name: String, relativeTo directory: Int32, _ result: inout Result) {
        FileSystem.removeTree(name, relativeTo: directory)
        result.removedLeftovers += 1
    }

    private static func shardNumber(_ name: String) -> UInt8? {
        guard name.utf8.count == 2, let value = UInt8(name, radix: 16),
            GroupDirectoryName.shardDirectoryName(value) == name
        else { return nil }
        return value
    }
}
