#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LRUCache

/// What `goedge cache` does to a cache, whether the running agent does it
/// (through its control API) or the command itself on the folder (holding
/// its lock): list, remove, prune, verify, and store imported files.
public struct CacheAdministration: Sendable {
    public let store: DiskCache

    public init(store: DiskCache) {
        self.store = store
    }

    /// Entries matching `pattern` (every entry if nil), most recently used first.
    public func entries(matching pattern: String? = nil) -> [CacheEntry] {
        store.groups().map(CacheEntry.init).filter { entry in pattern.map(entry.matches) ?? true }
    }

    /// Removes a module version, or every version of a module and its
    /// metadata (version list, @latest, queries) when `version` is nil.
    public func remove(module: String, version: String?) throws -> RemovalReport {
        let path = try ModulePath(module)
        var report = RemovalReport()
        if let version {
            let parsed = try ModuleVersion(version)
            for group in store.groups() where group.name == "\(path.escaped)/@v/\(parsed.escaped)" {
                if store.remove(group: group.name) { report.add(CacheEntry(group)) }
            }
            return report
        }
        let prefix = path.escaped + "/@"
        for group in store.groups() where group.name.hasPrefix(prefix) {
            if store.remove(group: group.name) { report.add(CacheEntry(group)) }
        }
        return report
    }

    /// Evicts least recently used entries until the cache uses at most
    /// `size` bytes, and entries not used for `olderThan`.
    public func prune(to size: Int64?, olderThan: Duration?) -> RemovalReport {
        var report = RemovalReport()
        if let olderThan {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let cutoff = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) - Int64(olderThan.components.seconds) * 1_000_000_000
            for group in store.groups() where group.lastUsed < cutoff {
                if store.remove(group: group.name) { report.add(CacheEntry(group)) }
            }
        }
        if let size {
            let before = Set(store.groups().map(\.name))
            let groups = Dictionary(store.groups().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            store.evict(downTo: size)
            let after = Set(store.groups().map(\.name))
            for name in before.subtracting(after) {
                if let group = groups[name] { report.add(CacheEntry(group)) }
            }
        }
        return report
    }

    /// Stores one file of a module version brought from elsewhere (a
    /// GOMODCACHE), after the checks a download gets: a zip's structure, and
    /// its h1 when `zipHash` gives one. A file already cached is kept.
    /// Returns false when it was cached already.
    public func storeImported(_ resource: ProxyResource, bytesAt path: String, zipHash: String?) throws -> Bool {
        guard let key = resource.cacheKey else { throw AdministrationError("\(resource) cannot be stored") }
        if store.info(key) != nil { return false }
        guard let size = FileSystemFacts.size(of: path) else { throw AdministrationError("cannot read \(path)") }
        guard size <= resource.maximumSize else { throw AdministrationError("\(path) is larger than the go command allows") }
        try ContentCheck.verify(resource, fileAt: path, length: size)
        var actualZipHash: String?
        if resource.isZip, zipHash != nil {
            let actual = try DirHash.zipHash(path: path)
            guard actual == zipHash else {
                throw AdministrationError("checksum mismatch: the .ziphash has \(zipHash!), the zip hashes to \(actual)")
            }
            actualZipHash = actual
        }
        let writer = try store.makeWriter(for: key, expectedSize: size)
        do {
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? input.close() }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try chunk.withUnsafeBytes { try writer.write($0) }
            }
            try writer.commit().release()
        } catch {
            writer.abandon()
            throw error
        }
        if let actualZipHash, let hashKey = resource.zipHashKey, store.info(hashKey) == nil {
            let hashWriter = try store.makeWriter(for: hashKey, expectedSize: Int64(actualZipHash.utf8.count))
            do {
                try hashWriter.write(Array(actualZipHash.utf8))
                try hashWriter.commit().release()
            } catch {
                hashWriter.abandon()
            }
        }
        return true
    }
}

/// What was removed.
public struct RemovalReport: Codable, Sendable, Equatable {
    public var removed: [String] = []
    public var freedBytes: Int64 = 0

    public init() {}

    mutating func add(_ entry: CacheEntry) {
        removed.append(entry.name)
        freedBytes += entry.diskUsage
    }
}

public struct AdministrationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

enum FileSystemFacts {
    static func size(of path: String) -> Int64? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(status.st_size)
    }
}
