import Foundation
import LRUCache

/// Checking module files against go.sum's `h1:` hashes.
enum Checksums {
    /// A file whose hash is not the one go.sum gives.
    struct Mismatch: Error, CustomStringConvertible {
        let resource: ProxyResource
        let expected: String
        let actual: String

        static let prefix = "checksum mismatch"

        var description: String {
            let (module, version) = resource.moduleVersion.map { ($0.0.path, $0.1.text) } ?? ("?", "?")
            let what = resource.isZip ? "\(module)@\(version)" : "\(module)@\(version)/go.mod"
            return "\(Self.prefix) for \(what): go.sum has \(expected), downloaded \(actual)"
        }
    }

    /// The h1 of a `.mod` or `.zip` file.
    static func hash(of resource: ProxyResource, fileAt path: String) throws -> String {
        if resource.isZip { return try DirHash.zipHash(path: path) }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return DirHash.goModHash([UInt8](data))
    }
}

extension ProxyResource {
    var isZip: Bool {
        if case .zip = self { true } else { false }
    }

    /// Where a zip's h1 is kept once known: beside the zip, in its group.
    var zipHashKey: CacheKey? {
        cacheKey.flatMap { try? CacheKey(group: $0.group, name: "ziphash") }
    }
}

extension ModuleProxy {
    /// Checks an answer for a `.mod` or `.zip` against go.sum's hash. Returns
    /// nil when it matches (or is not a file), else the mismatch.
    ///
    /// A cached file that does not match stays: it is what the upstream
    /// served, and the go.sum may be the one that is wrong. The go command
    /// checks it again against its own go.sum and the checksum database.
    public func verify(_ answer: ProxyAnswer, for resource: ProxyResource, expectedHash: String) async -> String? {
        guard answer.status == 200 else { return nil }
        let actual: String?
        switch (resource, answer.body) {
        case (.mod, .bytes(let bytes)):
            actual = DirHash.goModHash(bytes)
        case (.mod, .file(let hit)):
            actual = (try? hit.readAll()).map(DirHash.goModHash)
        case (.zip, _):
            actual = await zipHash(of: resource, answer: answer)
        default:
            return nil
        }
        guard let actual, actual != expectedHash else { return nil }
        return Checksums.Mismatch(resource: resource, expected: expectedHash, actual: actual).description
    }

    /// A cached zip's h1: kept beside it, worked out (and kept) the first time.
    func zipHash(of resource: ProxyResource, answer: ProxyAnswer) async -> String? {
        if let key = resource.zipHashKey, let kept = store.content(key, limit: 256) {
            return String(decoding: kept.bytes, as: UTF8.self)
        }
        guard case .file(let hit) = answer.body, let copy = store.duplicate(hit), let fd = copy.takeDescriptor() else {
            return nil
        }
        defer {
            close(fd)
            copy.release()
        }
        // The open descriptor, by its /proc name: the file may be evicted meanwhile.
        guard let hash = try? await BlockingIO.run({ try DirHash.zipHash(path: "/proc/self/fd/\(fd)") }) else { return nil }
        storeZipHash(hash, for: resource)
        return hash
    }

    func storeZipHash(_ hash: String, for resource: ProxyResource) {
        guard let key = resource.zipHashKey, let writer = try? store.makeWriter(for: key, expectedSize: Int64(hash.utf8.count)) else {
            return
        }
        do {
            try writer.write(Array(hash.utf8))
            try writer.commit().release()
        } catch {
            writer.abandon()
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
