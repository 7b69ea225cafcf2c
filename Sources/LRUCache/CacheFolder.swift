#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The store's folder on disk: made when new, recognised by its marker when
/// not, locked against a second process, and its leftovers cleared.
///
/// goedge never deletes what it did not create. A folder that already holds
/// anything is used only when it carries goedge's marker (a `CACHEDIR.TAG`
/// written by goedge), so a mistaken `--cache-dir ~` is refused instead of
/// emptied; and inside a marked folder only names goedge itself gives its
/// files are ever removed.
struct CacheFolder {
    let dataDirectory: Int32
    let temporaryDirectory: Int32
    let lockFile: Int32
    /// Disk usage of the folder's own structure (root, data, tmp, lock, tag).
    let structureUsage: Int64

    /// The marker's text: the cachedir.tag signature (backup tools skip the
    /// folder), and the line that tells goedge the folder is its own.
    static let markerName = "CACHEDIR.TAG"
    static let markerSignature = "Signature: 8a477f597d28d172789f06886806bc55"
    static let markerText = markerSignature + "\n# This folder is goedge's Go module cache.\n"
    /// The names goedge puts in the folder's top level.
    static let ownNames: Set<String> = ["data", "tmp", "goedge.lock", markerName, "control-token"]

    static func open(_ root: String, lockWait: Duration) throws -> CacheFolder {
        try checkOwnership(root)
        try makeDirectories(root)
        let rootFD = try FileSystem.openDirectory(root)
        defer { close(rootFD) }
        writeMarker(rootFD)

        let lockFile = openat(rootFD, "goedge.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        try FileSystem.check(lockFile, "open", root + "/goedge.lock")
        do {
            try lock(lockFile, root: root, wait: lockWait)
            try FileSystem.makeDirectory("data", relativeTo: rootFD)
            try FileSystem.makeDirectory("tmp", relativeTo: rootFD)
            let data = try FileSystem.openDirectory("data", relativeTo: rootFD)
            let temporary = try FileSystem.openDirectory("tmp", relativeTo: rootFD)
            var structureUsage: Int64 = 0
            for name in [".", "data", "tmp", "goedge.lock", markerName] {
                structureUsage += FileSystem.status(name, relativeTo: rootFD)?.diskUsage ?? 0
            }
            return CacheFolder(
                dataDirectory: data, temporaryDirectory: temporary, lockFile: lockFile, structureUsage: structureUsage)
        } catch {
            close(lockFile)
            throw error
        }
    }

    /// Refuses a folder that holds anything but is not marked as goedge's.
    static func checkOwnership(_ root: String) throws(CacheFolderError) {
        let entries: [(name: String, isDirectory: Bool?)]
        do {
            entries = try FileSystem.list(root)
        } catch {
            // Missing: it will be made. Anything else shows when it is opened.
            return
        }
        if entries.isEmpty { return }
        let marker = FileSystem.readSmallFile(root + "/" + markerName, limit: 4096)
        if let marker, String(decoding: marker, as: UTF8.self).contains("goedge") { return }
        let shown = entries.map(\.name).sorted().prefix(3).joined(separator: ", ")
        throw .notACacheFolder(path: root, entries: entries.count, examples: shown)
    }

    private static func makeDirectories(_ path: String) throws(SystemCallError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            try FileSystem.makeDirectory(prefix)
            prefix += "/"
        }
    }

    private static func writeMarker(_ rootFD: Int32) {
        // https://bford.info/cachedir/ — and the line that makes it goedge's.
        let fd = openat(rootFD, markerName, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        markerText.utf8CString.withUnsafeBytes {
            try? FileSystem.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0.dropLast()), path: markerName)
        }
        close(fd)
    }

    /// Takes the folder's lock; while another process holds it (a `goedge
    /// cache` command at work), tries again until `wait` has passed. There
    /// is no event to wait for across processes, so this one wait polls.
    private static func lock(_ fd: Int32, root: String, wait: Duration) throws {
        let deadline = ContinuousClock.now + wait
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            guard error == EWOULDBLOCK else {
                throw SystemCallError(call: "flock", path: root + "/goedge.lock", errno: error)
            }
            guard ContinuousClock.now < deadline else { throw DiskCacheError.inUse(directory: root) }
            var pause = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            nanosleep(&pause, nil)
        }
    }

    /// Whether `name` is one goedge gives a file in tmp/: a download or an
    /// import in flight (`PID-TOKEN-N.part`, or `PID-N.part` from earlier
    /// versions), or a group being deleted (`PID-N.evicted`, earlier versions).
    static func isOwnTemporaryName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, parts[1] == "part" || parts[1] == "evicted" else { return false }
        let fields = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 2 || fields.count == 3, fields.allSatisfy({ !$0.isEmpty }) else { return false }
        let digits = { (field: Substring) in field.allSatisfy(\.isASCIIDigit) }
        let hex = { (field: Substring) in field.allSatisfy(\.isHexDigit) }
        return digits(fields.first!) && digits(fields.last!) && (fields.count == 2 || hex(fields[1]))
    }
}

public enum CacheFolderError: Error, CustomStringConvertible, Equatable {
    case notACacheFolder(path: String, entries: Int, examples: String)

    public var description: String {
        switch self {
        case .notACacheFolder(let path, let entries, let examples):
            "\(path) is not a goedge cache folder: it holds \(entries) entr\(entries == 1 ? "y" : "ies") (\(examples)"
                + "\(entries > 3 ? ", …" : "")) and no goedge CACHEDIR.TAG; goedge uses only an empty or new folder,"
                + " or one it made, so that it never deletes files it did not create"
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
