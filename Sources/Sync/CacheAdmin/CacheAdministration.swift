#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LRUCache
import GoModules
import ModuleProxy
import ModulePolicy

/// What `goedge cache` does to a cache, whether the running agent does it
/// (through its control API) or the command itself on the folder (holding
/// its lock): list, remove, prune, verify, and store imported files.
public struct CacheAdministration: Sendable {
    public let store: DiskCache
    /// The agent's dates of versions, for the cooldown's marks (none when the command works on the folder itself).
    public let releaseDating: ReleaseDating?

    public init(store: DiskCache, releaseDating: ReleaseDating? = nil) {
        self.store = store
        self.releaseDating = releaseDating
    }

    /// Entries matching `pattern` (every entry if nil), most recently used first.
    public func entries(matching pattern: String? = nil) -> [CacheEntry] {
        store.groups().map(CacheEntry.init).filter { entry in pattern.map(entry.matches) ?? true }
    }

    /// Entries matching `pattern`, each marked with why `policy` does not
    /// serve it, if it does not.
    public func entries(matching pattern: String?, markedBy policy: ModulePolicy) -> [CacheEntry] {
        PolicyMarks.mark(
            entries(matching: pattern), by: policy,
            releaseDate: { entry in
                guard let module = entry.module, let version = entry.version else { return nil }
                return releaseDating?.knownDate(module, version)
            }, now: FileSystem.now())
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
            // Saturating: "older than a billion years" is everything, not a trap.
            let (difference, overflow) = FileSystem.now().subtractingReportingOverflow(olderThan.nanosecondCount)
            let cutoff = overflow ? Int64.min : difference
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
    public func storeImported(_ resource: ProxyResource, bytesAt path: String, zipHash: String?) async throws -> Bool {
        guard let size = FileSystemFacts.size(of: path) else { throw AdministrationError("cannot read \(path)") }
        guard let writer = try importWriter(for: resource, size: size) else { return false }
        do {
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? input.close() }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                try chunk.withUnsafeBytes { try writer.write($0) }
            }
        } catch {
            writer.abandon()
            throw error
        }
        return try await finishImport(resource, writer: writer, zipHash: zipHash)
    }

    /// Where an imported file of `size` bytes is written, in the cache's
    /// temporary folder and counted against its limit; nil when the file is
    /// cached already.
    public func importWriter(for resource: ProxyResource, size: Int64) throws -> CacheWriter? {
        guard let key = resource.cacheKey else { throw AdministrationError("\(resource) cannot be stored") }
        if store.info(key) != nil { return nil }
        guard size <= resource.maximumSize else { throw AdministrationError("\(resource) is larger than the go command allows") }
        return try store.makeWriter(for: key, expectedSize: size)
    }

    /// Checks an import written through ``importWriter(for:size:)`` as a
    /// download is checked, and stores it (with the zip's h1 beside it).
    public func finishImport(_ resource: ProxyResource, writer: CacheWriter, zipHash: String?) async throws -> Bool {
        let path = writer.temporaryPath
        let actualZipHash: String?
        do {
            actualZipHash = try await BlockingIO.run { () throws -> String? in
                try ContentCheck.verify(resource, fileAt: path)
                guard resource.isZip, let zipHash else { return nil }
                let actual = try DirHash.zipHash(path: path)
                guard actual == zipHash else {
                    throw AdministrationError("checksum mismatch: the .ziphash has \(zipHash), the zip hashes to \(actual)")
                }
                return actual
            }
        } catch {
            writer.abandon()
            throw error
        }
        _ = try await writer.commit()
        if let actualZipHash, let hashKey = resource.zipHashKey, store.info(hashKey) == nil {
            let hashWriter = try store.makeWriter(for: hashKey, expectedSize: Int64(actualZipHash.utf8.count))
            do {
                try hashWriter.write(Array(actualZipHash.utf8))
                _ = try await hashWriter.commit()
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
