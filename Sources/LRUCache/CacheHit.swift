#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CFileRead
import Synchronization

/// An open, complete cache file handed to a reader.
///
/// While a hit is alive its group is pinned: eviction passes it by, so the
/// space it occupies stays accounted and the file stays whole while it is
/// sent. The hit is the one owner of its descriptor and its pin, and gives
/// both back when it goes (its last reference dropped): no code gives them
/// back by hand, so no path can forget to. A reader that wants to own the
/// descriptor (to give it to sendfile) takes it with ``takeDescriptor()``
/// and closes it itself.
public final class CacheHit: Sendable {
    public let key: CacheKey
    /// Length of the content in bytes.
    public let size: Int64
    /// When the content was stored or last revalidated (nanoseconds since the epoch).
    public let storedAt: Int64
    /// False for a file the store could not keep (no room): it is complete
    /// and readable, but already unlinked.
    public let isStored: Bool

    private struct State {
        var descriptor: Int32?
        /// The store whose pin on the group this hit holds, and that pin.
        var pin: (store: DiskCache, pin: CacheIndex.GroupPin)?
    }
    private let state: Mutex<State>

    init(
        key: CacheKey, descriptor: Int32, size: Int64, storedAt: Int64, isStored: Bool,
        pin: (store: DiskCache, pin: CacheIndex.GroupPin)?
    ) {
        self.key = key
        self.size = size
        self.storedAt = storedAt
        self.isStored = isStored
        self.state = Mutex(State(descriptor: descriptor, pin: pin))
    }

    deinit {
        let (descriptor, pin) = state.withLock { ($0.descriptor, $0.pin) }
        if let descriptor { close(descriptor) }
        if let pin { pin.store.unpin(pin.pin) }
    }

    /// Hands the descriptor over; the caller closes it. Nil if already taken or released.
    public func takeDescriptor() -> Int32? {
        state.withLock { state in
            defer { state.descriptor = nil }
            return state.descriptor
        }
    }

    /// Another descriptor on the same file, which the caller owns and
    /// closes (it pins nothing: the file stays readable through it even if
    /// its group is evicted meanwhile).
    public func duplicateDescriptor() -> Int32? {
        state.withLock { state in
            guard let descriptor = state.descriptor else { return nil }
            let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
            return copy >= 0 ? copy : nil
        }
    }

    /// What a read that must not wait found.
    public enum ImmediateRead: Sendable, Equatable {
        /// This many bytes, at least one.
        case read(Int)
        /// The file ends here.
        case end
        /// The bytes are not in memory, or the file system cannot tell:
        /// read them where waiting for the disk is allowed.
        case wouldWait
    }

    /// Reads into `buffer` at `offset` what the page cache holds now,
    /// never waiting for the disk (preadv2's RWF_NOWAIT): for a reader on
    /// an event loop. At the end once the descriptor was taken.
    public func readWithoutWaiting(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> ImmediateRead {
        guard let fd = state.withLock({ $0.descriptor }) else { return .end }
        while true {
            let count = goedge_pread_cached(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if count > 0 { return .read(count) }
            if count == 0 { return .end }
            switch errno {
            case EINTR: continue
            case EAGAIN, EOPNOTSUPP: return .wouldWait
            default: throw SystemCallError(call: "preadv2", path: key.description, errno: errno)
            }
        }
    }

    /// Reads into `buffer` at `offset`, waiting for the disk (on the
    /// blocking pool): fewer bytes than it holds only at the file's end.
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let fd = state.withLock({ $0.descriptor }) else { return 0 }
        var filled = 0
        while filled < buffer.count {
            let count = pread(fd, buffer.baseAddress! + filled, buffer.count - filled, off_t(offset) + off_t(filled))
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(call: "read", path: key.description, errno: errno)
            }
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    /// Reads the whole content (for small files such as version lists).
    public func readAll() throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let count = try bytes.withUnsafeMutableBytes { try read(at: 0, into: $0) }
        bytes.removeSubrange(count...)
        return bytes
    }
}
