#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
/// last use of a group is the newest access time among its files.
struct IndexRebuild {
    let dataDirectory: Int32
    let temporaryDirectory: Int32

    private(set) var groups: [CacheIndex.Group] = []
    private(set) var shardUsage = [Int64?](repeating: nil, count: 256)
    private(set) var removedLeftovers = 0

    init(dataDirectory: Int32, temporaryDirectory: Int32) {
        self.dataDirectory = dataDirectory
        self.temporaryDirectory = temporaryDirectory
    }

    mutating func run() {
        // Whatever is in tmp/ belongs to a write or a deletion that never finished.
        for entry in (try? FileSystem.list(".", relativeTo: temporaryDirectory)) ?? [] {
            FileSystem.removeTree(entry.name, relativeTo: temporaryDirectory)
            removedLeftovers += 1
        }
        for entry in (try? FileSystem.list(".", relativeTo: dataDirectory)) ?? [] {
            guard let shard = Self.shardNumber(entry.name), entry.isDirectory != false,
                let shardFD = try? FileSystem.openDirectory(entry.name, relativeTo: dataDirectory)
            else {
                removeLeftover(entry.name, relativeTo: dataDirectory)
                continue
            }
            shardUsage[Int(shard)] = FileSystem.status(entry.name, relativeTo: dataDirectory)?.diskUsage ?? 0
            scanShard(shard, shardFD)
            close(shardFD)
        }
    }

    private mutating func scanShard(_ shard: UInt8, _ shardFD: Int32) {
        for entry in (try? FileSystem.list(".", relativeTo: shardFD)) ?? [] {
            guard entry.isDirectory != false, let key = GroupDirectoryName.decode(entry.name),
                GroupDirectoryName.shard(of: key) == shard,
                let groupFD = try? FileSystem.openDirectory(entry.name, relativeTo: shardFD)
            else {
                removeLeftover(entry.name, relativeTo: shardFD)
                continue
            }
            var files: [CacheIndex.File] = []
            var lastUsed: Int64 = 0
            for fileEntry in (try? FileSystem.list(".", relativeTo: groupFD)) ?? [] {
                guard CacheKey.isValidFileName(fileEntry.name), fileEntry.isDirectory != true,
                    let status = FileSystem.status(fileEntry.name, relativeTo: groupFD), status.isRegularFile
                else {
                    removeLeftover(fileEntry.name, relativeTo: groupFD)
                    continue
                }
                files.append(
                    CacheIndex.File(
                        name: fileEntry.name, size: status.size, diskUsage: status.diskUsage,
                        storedAt: status.modificationTime))
                lastUsed = max(lastUsed, status.accessTime, status.modificationTime)
            }
            close(groupFD)
            if files.isEmpty {
                unlinkat(shardFD, entry.name, AT_REMOVEDIR)
                continue
            }
            let directoryUsage = FileSystem.status(entry.name, relativeTo: shardFD)?.diskUsage ?? DiskCache.blockSize
            groups.append(
                CacheIndex.Group(
                    key: key, files: files, directoryUsage: directoryUsage, lastUsed: lastUsed,
                    persistedUse: lastUsed, pins: 0))
        }
    }

    private mutating func removeLeftover(_ name: String, relativeTo directory: Int32) {
        FileSystem.removeTree(name, relativeTo: directory)
        removedLeftovers += 1
    }

    private static func shardNumber(_ name: String) -> UInt8? {
        guard name.utf8.count == 2, let value = UInt8(name, radix: 16),
            GroupDirectoryName.shardDirectoryName(value) == name
        else { return nil }
        return value
    }
}
