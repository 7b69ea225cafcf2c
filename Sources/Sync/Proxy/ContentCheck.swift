import Foundation
import ZIPFoundation

/// Checks that a module file from an upstream is what it claims to be before
/// it is stored for good: a damaged or substituted file (an HTML error page
/// with status 200, a truncated zip) is never cached.
enum ContentCheck {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Checks the file at `path` for `resource`.
    static func verify(_ resource: ProxyResource, fileAt path: String, length: Int64) throws {
        switch resource {
        case .zip(let module, let version):
            try verifyZip(at: path, prefix: "\(module.path)@\(version.text)/")
        case .info, .mod, .list, .latest, .sumdb:
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try verify(resource, bytes: [UInt8](data))
        }
    }

    /// Checks a body held in memory.
    static func verify(_ resource: ProxyResource, bytes: [UInt8]) throws {
        switch resource {
        case .info, .latest:
            // {"Version": "...", "Time": "..."}; other fields pass through untouched.
            struct Info: Decodable {
                // swift-format-ignore: AlwaysUseLowerCamelCase
                let Version: String
            }
            do {
                _ = try JSONDecoder().decode(Info.self, from: Data(bytes))
            } catch {
                throw Failure(description: "not a version info JSON object")
            }
        case .mod:
            guard let text = String(validating: bytes, as: UTF8.self),
                text.textLines.contains(where: { $0.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("module") })
            else { throw Failure(description: "not a go.mod file") }
        case .list:
            guard String(validating: bytes, as: UTF8.self) != nil else { throw Failure(description: "not a version list") }
        case .zip, .sumdb:
            break
        }
    }

    /// The structure golang.org/x/mod/zip requires: a readable central
    /// directory, every file under `module@version/`, within the size limit.
    private static func verifyZip(at path: String, prefix: String) throws {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw Failure(description: "not a readable zip file")
        }
        var total: UInt64 = 0
        for entry in archive {
            guard entry.path.hasPrefix(prefix) else {
                throw Failure(description: "zip holds \(entry.path), outside \(prefix)")
            }
            total += entry.uncompressedSize
            guard total <= 500 << 20 else { throw Failure(description: "zip unpacks to more than 500 MiB") }
        }
    }
}
