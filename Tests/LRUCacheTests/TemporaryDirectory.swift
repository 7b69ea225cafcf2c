import Foundation

/// A fresh folder under the system's temporary folder, removed with its contents on deinit.
final class TemporaryDirectory {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "goedge-test-XXXXXX").utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// What `du` would report: allocated bytes of every file and folder below, the root included.
    func diskUsage() -> Int64 {
        var total: Int64 = 0
        var info = stat()
        if stat(path, &info) == 0 { total += Int64(info.st_blocks) * 512 }
        for relative in FileManager.default.subpaths(atPath: path) ?? [] {
            if lstat(path + "/" + relative, &info) == 0 { total += Int64(info.st_blocks) * 512 }
        }
        return total
    }

    func files(under folder: String) -> [String] {
        (FileManager.default.subpaths(atPath: path + "/" + folder) ?? []).sorted()
    }
}
