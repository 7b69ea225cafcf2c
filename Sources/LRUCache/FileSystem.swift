#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed system call, with the path it was about.
public struct SystemCallError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let path: String
    public let errno: Int32

    public var description: String {
        "\(call) \(path): \(String(cString: strerror(errno)))"
    }
}

/// What `stat` tells about one file, reduced to what the store needs.
struct FileStatus {
    var isDirectory: Bool
    var isRegularFile: Bool
    var size: Int64
    /// Allocated bytes (st_blocks × 512): what the file really costs on disk.
    var diskUsage: Int64
    var accessTime: Int64
    var modificationTime: Int64
}

/// Thin wrappers over the system calls the store uses, relative to directory
/// descriptors so that no path is ever resolved twice.
public enum FileSystem {
    /// `UTIME_OMIT` (a macro Swift does not import): leave this time unchanged.
    static let omitTime = (1 << 30) - 2

    static func check(_ result: Int32, _ call: String, _ path: String) throws(SystemCallError) {
        if result < 0 { throw SystemCallError(call: call, path: path, errno: errno) }
    }

    static func openDirectory(_ path: String, relativeTo directory: Int32 = AT_FDCWD) throws(SystemCallError) -> Int32 {
        let fd = openat(directory, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "open", path)
        return fd
    }

    /// Creates a directory; an existing one is fine.
    static func makeDirectory(_ path: String, relativeTo directory: Int32 = AT_FDCWD) throws(SystemCallError) {
        if mkdirat(directory, path, 0o755) < 0 && errno != EEXIST {
            throw SystemCallError(call: "mkdir", path: path, errno: errno)
        }
    }

    static func status(_ path: String, relativeTo directory: Int32) -> FileStatus? {
        var info = stat()
        guard fstatat(directory, path, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return FileStatus(info)
    }

    static func status(of fd: Int32) -> FileStatus? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return FileStatus(info)
    }

    /// Names in a directory, without `.` and `..`, with whether each is a directory
    /// (`nil` when the file system does not say, and a stat is needed).
    public static func list(_ path: String, relativeTo directory: Int32 = AT_FDCWD) throws(SystemCallError) -> [(name: String, isDirectory: Bool?)] {
        let fd = try openDirectory(path, relativeTo: directory)
        return try list(takingOwnershipOf: fd, path: path)
    }

    /// Lists an open directory and closes it.
    static func list(takingOwnershipOf fd: Int32, path: String) throws(SystemCallError) -> [(name: String, isDirectory: Bool?)] {
        guard let stream = fdopendir(fd) else {
            close(fd)
            throw SystemCallError(call: "fdopendir", path: path, errno: errno)
        }
        defer { closedir(stream) }
        var names: [(String, Bool?)] = []
        while let entry = readdir(stream) {
            let (name, type) = nameAndType(of: entry)
            if name == "." || name == ".." { continue }
            names.append((name, type == UInt8(DT_DIR) ? true : type == UInt8(DT_UNKNOWN) ? nil : false))
        }
        return names
    }

    /// A directory entry's name and type, read in place. readdir packs its
    /// entries by their own length, so a whole `dirent` (`entry.pointee`,
    /// with its 256-byte name) may reach past the end of readdir's buffer:
    /// copying it crashed goedge on a cache of a million entries.
    static func nameAndType(of entry: UnsafePointer<dirent>) -> (name: String, type: UInt8) {
        let raw = UnsafeRawPointer(entry)
        let name = String(cString: (raw + MemoryLayout<dirent>.offset(of: \dirent.d_name)!).assumingMemoryBound(to: CChar.self))
        return (name, raw.load(fromByteOffset: MemoryLayout<dirent>.offset(of: \dirent.d_type)!, as: UInt8.self))
    }

    /// Removes a file or a whole tree; a missing one is fine.
    static func removeTree(_ path: String, relativeTo directory: Int32 = AT_FDCWD) {
        if unlinkat(directory, path, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR || errno == EPERM else { return }
        // Never through a symbolic link: only what is really inside goes.
        let fd = openat(directory, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 {
            let listing = dup(fd)
            if listing >= 0, let children = try? list(takingOwnershipOf: listing, path: path) {
                for child in children { removeTree(child.name, relativeTo: fd) }
            }
            close(fd)
        }
        unlinkat(directory, path, AT_REMOVEDIR)
    }

    /// The disk usage of a file, or of a folder and everything in it (links not followed).
    static func treeUsage(_ path: String, relativeTo directory: Int32) -> Int64 {
        guard let status = status(path, relativeTo: directory) else { return 0 }
        guard status.isDirectory else { return status.diskUsage }
        var total = status.diskUsage
        let fd = openat(directory, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return total }
        defer { close(fd) }
        let listing = dup(fd)
        if listing >= 0, let children = try? list(takingOwnershipOf: listing, path: path) {
            for child in children { total += treeUsage(child.name, relativeTo: fd) }
        }
        return total
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(SystemCallError) {
        var offset = 0
        while offset < buffer.count {
            let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(call: "write", path: path, errno: errno)
            }
            offset += written
        }
    }

    static func readAll(_ fd: Int32, path: String, limit: Int) throws(SystemCallError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while result.count < limit {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, min($0.count, limit - result.count)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(call: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    /// The content of a small file, or nil when it is missing, larger than
    /// `limit` or not a regular file.
    static func readSmallFile(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let status = status(of: fd), status.isRegularFile, status.size <= Int64(limit) else { return nil }
        return try? readAll(fd, path: path, limit: limit)
    }

    /// Sets a file's access time (for LRU order after a restart) and, when
    /// given, its modification time (when its content was last confirmed).
    static func setTimes(
        _ path: String, relativeTo directory: Int32, access: Int64?, modification: Int64?
    ) {
        var times = [timespec(access), timespec(modification)]
        utimensat(directory, path, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// The system's time of day, in nanoseconds since the epoch.
    public static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

extension FileStatus {
    init(_ info: stat) {
        let type = info.st_mode & S_IFMT
        self.init(
            isDirectory: type == S_IFDIR,
            isRegularFile: type == S_IFREG,
            size: Int64(info.st_size),
            diskUsage: Int64(info.st_blocks) * 512,
            accessTime: Self.nanoseconds(info.st_atim),
            modificationTime: Self.nanoseconds(info.st_mtim)
        )
    }

    /// A file's time in nanoseconds since the epoch, held to `0...Int64.max`:
    /// anyone can give a file a time that `Int64` nanoseconds cannot hold
    /// (`touch -d 3000-01-01`), or one before 1970 that later subtractions
    /// would overflow on.
    static func nanoseconds(_ time: timespec) -> Int64 {
        guard time.tv_sec >= 0 else { return 0 }
        let (product, overflow) = Int64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, overflowed) = product.addingReportingOverflow(Int64(time.tv_nsec))
        return overflowed ? .max : sum
    }
}

extension timespec {
    /// A time for `utimensat`, or "leave unchanged" for nil.
    fileprivate init(_ nanoseconds: Int64?) {
        if let nanoseconds {
            self.init(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        } else {
            self.init(tv_sec: 0, tv_nsec: FileSystem.omitTime)
        }
    }
}
