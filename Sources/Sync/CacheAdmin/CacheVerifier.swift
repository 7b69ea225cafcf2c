#if canImport(Glibc)
import Glibc
#endif
import LRUCache
import GoModules
import ModuleProxy

/// `goedge cache verify`: checks every entry again, as a download is
/// checked before it is stored (a zip's structure, a go.mod's and an .info's
/// form, sizes), and a zip against its h1 where one is known (from a go.sum
/// at prefetch, or a GOMODCACHE's .ziphash at import). Damaged entries are
/// removed whole, so the next request fetches them again.
public struct CacheVerifier: Sendable {
    public let store: DiskCache

    public init(store: DiskCache) {
        self.store = store
    }

    /// Checks every entry; `progress` gets (entries checked, entries in all).
    public func run(progress: (Int, Int) -> Void = { _, _ in }) -> VerifyReport {
        let groups = store.groups()
        var report = VerifyReport()
        for (index, group) in groups.enumerated() {
            let entry = CacheEntry(group)
            if let problem = problem(in: group, entry: entry) {
                report.damaged.append("\(entry.name): \(problem)")
                if store.remove(group: group.name) { report.removed += 1 }
            }
            report.checked += 1
            report.bytes += group.size
            progress(index + 1, groups.count)
        }
        return report
    }

    /// What is wrong with a group's files, or nil.
    private func problem(in group: StoredGroup, entry: CacheEntry) -> String? {
        let moduleVersion: (ModulePath, ModuleVersion)? =
            if let module = entry.module, let version = entry.version, let path = try? ModulePath(module),
                let parsed = try? ModuleVersion(version)
            { (path, parsed) } else { nil }
        let knownZipHash = (try? CacheKey(group: group.name, name: "ziphash")).flatMap { store.content($0, limit: 256) }
            .map { String(decoding: $0.bytes, as: UTF8.self) }
        for name in group.files.sorted() {
            guard let key = try? CacheKey(group: group.name, name: name), let hit = store.lookup(key) else {
                return "\(name) is in the index but cannot be opened"
            }
            guard let fd = hit.duplicateDescriptor() else { return "\(name) cannot be opened" }
            defer { close(fd) }
            var status = stat()
            guard fstat(fd, &status) == 0 else { return "\(name) cannot be read" }
            guard Int64(status.st_size) == hit.size else {
                return "\(name) is \(status.st_size) bytes, \(hit.size) were stored"
            }
            guard let (module, version) = moduleVersion else { continue }
            let resource: ProxyResource
            switch name {
            case "zip": resource = .zip(module, version)
            case "mod": resource = .mod(module, version)
            case "info": resource = .info(module, version)
            default: continue
            }
            // The open descriptor, by its /proc name: the entry may be evicted meanwhile.
            let path = "/proc/self/fd/\(fd)"
            do {
                try ContentCheck.verify(resource, fileAt: path)
                if name == "zip", let knownZipHash {
                    let actual = try DirHash.zipHash(path: path)
                    if actual != knownZipHash { return "zip hashes to \(actual), \(knownZipHash) was known" }
                }
            } catch {
                return "\(name): \(error)"
            }
        }
        return nil
    }
}

/// What `goedge cache verify` found.
public struct VerifyReport: Codable, Sendable, Equatable {
    public var checked = 0
    public var bytes: Int64 = 0
    /// One line per damaged entry: which, and what is wrong.
    public var damaged: [String] = []
    public var removed = 0

    public init() {}
}
