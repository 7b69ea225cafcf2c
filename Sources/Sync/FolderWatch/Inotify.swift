#if canImport(Glibc)
import Glibc
#endif

/// One inotify instance: the kernel's notifications of changes in watched
/// folders. Used from one thread.
final class Inotify {
    struct Event {
        /// The watch (folder) the event is about.
        let watch: Int32
        let mask: UInt32
        /// The entry in the folder, empty for events about the folder itself.
        let name: String

        func has(_ flag: Int32) -> Bool { mask & UInt32(bitPattern: flag) != 0 }
    }

    private let descriptor: Int32
    /// Room for many events per read (each is 16 bytes and a padded name).
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    init() throws(WatchError) {
        descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard descriptor >= 0 else {
            let code = errno
            if code == EMFILE {
                throw WatchError(
                    "cannot start inotify: this user has all the inotify instances the system allows; "
                        + "raise fs.inotify.max_user_instances (now \(Self.limit("max_user_instances"))), "
                        + "e.g. sysctl fs.inotify.max_user_instances=1024")
            }
            throw WatchError("cannot start inotify: \(String(cString: strerror(code)))")
        }
    }

    deinit {
        close(descriptor)
    }

    /// Watches a folder; nil when it is gone or cannot be read (it is skipped).
    func add(_ path: String, mask: UInt32) throws(WatchError) -> Int32? {
        let watch = inotify_add_watch(descriptor, path, mask)
        if watch >= 0 { return watch }
        switch errno {
        case ENOSPC:
            throw WatchError(
                "cannot watch \(path): out of inotify watches (fs.inotify.max_user_watches is "
                    + "\(Self.limit("max_user_watches"))); raise it, e.g. "
                    + "sysctl fs.inotify.max_user_watches=524288, or watch fewer folders")
        case ENOMEM:
            throw WatchError("cannot watch \(path): the kernel is out of memory for inotify")
        default:
            // Deleted meanwhile, not a folder any more, or not readable: nothing to watch.
            return nil
        }
    }

    /// Waits up to `timeout` (nil: for ever) for events; empty when none came.
    func read(timeout: Duration?) throws(WatchError) -> [Event] {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = timeout.map { Int32(clamping: max(0, $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000)) } ?? -1
        let ready = poll(&poller, 1, milliseconds)
        if ready < 0 {
            if errno == EINTR { return [] }
            throw WatchError("cannot wait for inotify events: \(String(cString: strerror(errno)))")
        }
        if ready == 0 { return [] }
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EAGAIN || errno == EINTR { return [] }
            throw WatchError("cannot read inotify events: \(String(cString: strerror(errno)))")
        }
        return buffer.withUnsafeBytes { Self.parse(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    /// `struct inotify_event`: wd, mask, cookie, len, then `len` bytes of NUL-padded name.
    private static func parse(_ bytes: UnsafeRawBufferPointer) -> [Event] {
        var events: [Event] = []
        var offset = 0
        let header = MemoryLayout<inotify_event>.size
        while offset + header <= bytes.count {
            let watch = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameBytes = bytes[(offset + header)..<min(bytes.count, offset + header + length)]
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            events.append(Event(watch: watch, mask: mask, name: name))
            offset += header + length
        }
        return events
    }

    /// An inotify limit in effect: the user namespace's own (`/proc/sys/user`,
    /// the same as fs.inotify's on a host), else fs.inotify's.
    static func limit(_ name: String) -> String {
        let own = "/proc/sys/user/max_inotify_" + name.dropFirst("max_user_".count)
        guard let file = fopen(own, "r") ?? fopen("/proc/sys/fs/inotify/" + name, "r") else { return "unknown" }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, 32, file) != nil else { return "unknown" }
        return String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).filter(\.isNumber)
    }
}

/// Watching cannot go on, and why (with what to do about it).
public struct WatchError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
