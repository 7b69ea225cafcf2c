import Foundation
import GoModules
import LRUCache

#if canImport(Glibc)
import Glibc
#endif

/// Checking module files against go.sum's `h1:` hashes.
package enum Checksums {
    /// The h1 of a `.mod` or `.zip` file.
    package static func hash(of resource: ProxyResource, fileAt path: String) throws -> String {
        if resource.isZip { return try DirHash.zipHash(path: path) }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return DirHash.goModHash([UInt8](data))
    }
}

extension ProxyResource {
    package var isZip: Bool {
        if case .zip = self { true } else { false }
    }

    package var isMod: Bool {
        if case .mod = self { true } else { false }
    }

    /// How go.sum names what this file's hash is of: `m@v` for a zip, `m@v/go.mod` for a go.mod.
    package var checksumName: String {
        guard let (module, version) = moduleVersion else { return description }
        return isZip ? "\(module.path)@\(version.text)" : "\(module.path)@\(version.text)/go.mod"
    }

    /// Where a zip's h1 is kept once known: beside the zip, in its group.
    package var zipHashKey: CacheKey? {
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
    public func verify(_ answer: ProxyAnswer, for resource: ProxyResource, expectedHash: String) async -> ProxyFailure? {
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
        return .checksumMismatch(file: resource.checksumName, expected: expectedHash, actual: actual)
    }

    /// A cached zip's h1: kept beside it, worked out (and kept) the first time.
    func zipHash(of resource: ProxyResource, answer: ProxyAnswer) async -> String? {
        if let key = resource.zipHashKey, let kept = store.content(key, limit: 256) {
            return String(decoding: kept.bytes, as: UTF8.self)
        }
        // A descriptor of its own, pinning nothing: the file may be evicted meanwhile.
        guard case .file(let hit) = answer.body, let fd = hit.duplicateDescriptor() else { return nil }
        guard let hash = try? await BlockingIO.run({ try DirHash.zipHash(ModuleZip(taking: fd)) }) else { return nil }
        await storeZipHash(hash, for: resource)
        return hash
    }

    func storeZipHash(_ hash: String, for resource: ProxyResource) async {
        guard let key = resource.zipHashKey, let writer = try? store.makeWriter(for: key, expectedSize: Int64(hash.utf8.count)) else {
            return
        }
        do {
            try writer.write(Array(hash.utf8))
            _ = try await writer.commit()
        } catch {
            writer.abandon()
        }
    }
}
