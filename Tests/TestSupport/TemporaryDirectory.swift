import Foundation

/// A fresh folder under the system's temporary folder, removed with its contents on deinit.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init() {
        var template = Array((NSTemporaryDirectory() + "goedge-test-XXXXXX").utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// What `du` would report: allocated bytes of every file and folder below, the root included.
    public func diskUsage() -> Int64 {
        var total: Int64 = 0
        var info = stat()
        if stat(path, &info) == 0 { total += Int64(info.st_blocks) * 512 }
        for relative in FileManager.default.subpaths(atPath: path) ?? [] {
            if lstat(path + "/" + relative, &info) == 0 { total += Int64(info.st_blocks) * 512 }
        }
        return total
    }

    public func files(under folder: String = "") -> [String] {
        (FileManager.default.subpaths(atPath: folder.isEmpty ? path : path + "/" + folder) ?? []).sorted()
    }

    public func write(_ relative: String, _ text: String) throws {
        let file = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // Not `atomically`: Foundation's atomic write leaves an empty
        // TemporaryDirectory.XXXXXX folder in /tmp behind every time.
        try text.write(toFile: file, atomically: false, encoding: .utf8)
    }

    public func read(_ relative: String) -> String? {
        try? String(contentsOfFile: path + "/" + relative, encoding: .utf8)
    }
}
