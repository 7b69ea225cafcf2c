import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throw-away root file system: this machine's own root, read-only, under
/// an overlay whose changes go to a tmpfs and vanish with it. What a test
/// installs, changes or deletes in it never reaches the host, and
/// ``changedPaths()`` lists exactly what was left behind.
///
/// Needs root and overlayfs.
public final class OverlayRoot: @unchecked Sendable {
    /// The root folder: files written here are inside it.
    public let path: String
    private let base: String
    private var systemFoldersMounted = false

    public static var isAvailable: Bool { getuid() == 0 }

    public init() throws {
        var template = Array("/var/tmp/goedge-root-XXXXXX".utf8CString)
        base = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        path = base + "/root"
        let layers = base + "/layers"
        try FileManager.default.createDirectory(atPath: layers, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "tmpfs", layers])
        try FileManager.default.createDirectory(atPath: layers + "/upper", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: layers + "/work", withIntermediateDirectories: true)
        // The root file system only: /dev, /proc, /run, /tmp and the rest are not in it.
        try Self.mount(["-t", "overlay", "overlay", "-o", "lowerdir=/,upperdir=\(layers)/upper,workdir=\(layers)/work", path])
    }

    deinit {
        _ = try? ChildProcess.run("/bin/umount", ["--recursive", "--lazy", path])
        _ = try? ChildProcess.run("/bin/umount", ["--lazy", base + "/layers"])
        try? FileManager.default.removeItem(atPath: base)
    }

    /// Paths (inside the root) that were added, changed or deleted since it was made.
    public func changedPaths() -> [String] {
        let upper = base + "/layers/upper"
        return (FileManager.default.subpaths(atPath: upper) ?? []).map { "/" + $0 }.sorted()
    }

    /// Runs a command chrooted into the root (no systemd, as in a container
    /// image build), with the host's /dev and a /proc.
    public func chroot(_ command: [String], timeout: Duration = .seconds(120)) throws -> CommandResult {
        if !systemFoldersMounted {
            try Self.mount(["--rbind", "/dev", path + "/dev"])
            try Self.mount(["-t", "proc", "proc", path + "/proc"])
            systemFoldersMounted = true
        }
        return try ChildProcess.run(
            "/usr/sbin/chroot", [path] + command,
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8"],
            timeout: timeout)
    }

    /// Writes a file inside the root.
    public func write(_ file: String, _ text: String, mode: Int = 0o644) throws {
        let full = path + file
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        chmod(full, mode_t(mode))
    }

    /// Copies a host file inside the root.
    public func copy(_ source: String, to file: String) throws {
        let full = path + file
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: full)
        try FileManager.default.copyItem(atPath: source, toPath: full)
    }

    /// Removes a file or folder inside the root (the host keeps it).
    public func remove(_ file: String) throws {
        try FileManager.default.removeItem(atPath: path + file)
    }

    static func mount(_ arguments: [String]) throws {
        let result = try ChildProcess.run("/bin/mount", arguments)
        guard result.status == 0 else { throw TestFailure("mount \(arguments): \(result)") }
    }
}
