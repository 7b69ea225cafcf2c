import Foundation
import TestSupport
import ZIPFoundation

/// Module zips made by an independent zip writer (ZIPFoundation), for the
/// tests of goedge's own zip reader and of what the proxy stores.
public enum ZipMaker {
    /// A zip holding `files` (name, content), names as given.
    public static func zip(_ files: [(String, String)], compressed: Bool = true) throws -> [UInt8] {
        let folder = TemporaryDirectory()
        let path = folder.path + "/made.zip"
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (name, content) in files {
            let data = Data(content.utf8)
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: compressed ? .deflate : .none
            ) { position, size in data.subdata(in: Int(position)..<Int(position) + size) }
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A module's zip: every file under `module@version/`.
    public static func module(_ module: String, _ version: String, files: [(String, String)] = [("go.mod", "")]) throws -> [UInt8] {
        let named = files.map { name, content in
            ("\(module)@\(version)/\(name)", name == "go.mod" && content.isEmpty ? "module \(module)\n" : content)
        }
        return try zip(named)
    }
}
