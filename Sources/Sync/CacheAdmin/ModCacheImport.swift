import Foundation
import GoModules
import ModuleProxy

/// The files of a go command module cache (`$GOMODCACHE/cache/download`)
/// that `goedge cache import` brings into goedge's cache: for each module
/// version, its .info, .mod and .zip, and the zip's h1 from its .ziphash.
public struct ModCacheImport: Sendable {
    /// One module version's files in the module cache.
    public struct Version: Sendable {
        public var module: ModulePath
        public var version: ModuleVersion
        /// Paths of the .mod, .zip and .info, when present.
        public var mod: String?
        public var zip: String?
        public var info: String?
        /// The h1 the go command recorded for the zip.
        public var zipHash: String?

        /// The files to store, in the order they are stored: the zip (the
        /// one whose check may fail) first.
        public var files: [(resource: ProxyResource, path: String)] {
            var files: [(ProxyResource, String)] = []
            if let zip { files.append((.zip(module, version), zip)) }
            if let mod { files.append((.mod(module, version), mod)) }
            if let info { files.append((.info(module, version), info)) }
            return files
        }
    }

    public let downloadFolder: String
    public let versions: [Version]
    /// Files that do not name a module version (listed, not imported).
    public let skipped: [String]

    /// Reads the folder tree under `gomodcache/cache/download`.
    public init(gomodcache: String) throws {
        downloadFolder = gomodcache + "/cache/download"
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: downloadFolder, isDirectory: &isFolder), isFolder.boolValue else {
            throw AdministrationError("\(downloadFolder): no such folder (is \(gomodcache) a GOMODCACHE?)")
        }
        var found: [String: Version] = [:]
        var skipped: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: downloadFolder)
        while let relative = enumerator?.nextObject() as? String {
            // <escaped module>/@v/<escaped version>.<ext>
            guard let range = relative.range(of: "/@v/", options: .backwards) else { continue }
            let escapedModule = String(relative[..<range.lowerBound])
            let file = String(relative[range.upperBound...])
            guard !file.contains("/"), let dot = file.lastIndex(of: ".") else { continue }
            let ext = String(file[file.index(after: dot)...])
            guard ["info", "mod", "zip", "ziphash"].contains(ext) else { continue }
            guard let module = try? ModulePath(escaped: escapedModule),
                let version = try? ModuleVersion(escaped: String(file[..<dot])), version.isCanonical
            else {
                skipped.append(relative)
                continue
            }
            let key = "\(module.path)@\(version.text)"
            var entry = found[key] ?? Version(module: module, version: version)
            let path = downloadFolder + "/" + relative
            switch ext {
            case "info": entry.info = path
            case "mod": entry.mod = path
            case "zip": entry.zip = path
            default:
                entry.zipHash = (try? String(contentsOfFile: path, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            found[key] = entry
        }
        versions = found.keys.sorted().map { found[$0]! }
        self.skipped = skipped
    }

    /// Stores every version's files through `store` (which returns false
    /// for a file already cached: it writes to the folder, or uploads to the
    /// agent), reporting progress as (versions done, versions).
    public func run(
        store: (ProxyResource, String, String?) async throws -> Bool, progress: (Int, Int) -> Void = { _, _ in }
    ) async -> ImportReport {
        var report = ImportReport()
        for (index, version) in versions.enumerated() {
            report.versions += 1
            for (resource, path) in version.files {
                do {
                    if try await store(resource, path, resource.isZip ? version.zipHash : nil) {
                        report.imported += 1
                        report.bytes += FileSystemFacts.size(of: path) ?? 0
                    } else {
                        report.alreadyCached += 1
                    }
                } catch {
                    report.failures.append("\(version.module.path)@\(version.version.text): \(error)")
                    // Nothing more of a version whose zip failed its check.
                    if resource.isZip { break }
                }
            }
            progress(index + 1, versions.count)
        }
        return report
    }
}

/// What `goedge cache import` did.
public struct ImportReport: Codable, Sendable, Equatable {
    public var versions = 0
    public var imported = 0
    public var alreadyCached = 0
    public var bytes: Int64 = 0
    public var failures: [String] = []

    public init() {}
}
