#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One file being written into the store.
///
/// Bytes go to a temporary file whose space is reserved in the store as it
/// grows. ``commit()`` makes the file durable and visible atomically;
/// ``abandon()`` (or simply dropping the writer) leaves nothing behind.
///
/// When the store cannot make room (the file is larger than the whole store,
/// or every other group is being read), the writer keeps writing but stops
/// counting: ``commit()`` then hands back the content as a readable, unlinked
/// file that is not stored.
///
/// A writer is used by one thread at a time.
public final class CacheWriter: @unchecked Sendable {
    public let key: CacheKey
    let temporaryName: String
    private let store: DiskCache
    private var descriptor: Int32
    /// Room held in the store for this file, until the commit makes it the file's usage.
    var reservation: SpaceReservation
    /// Set while the store's index is not loaded: room is reserved at the commit.
    var reservationDeferred = false
    /// False once the store could not make room for this file.
    public internal(set) var isStoring = true
    public private(set) var bytesWritten: Int64 = 0
    private var finished = false
    /// Set once the temporary file was renamed or unlinked: nothing left to remove.
    private var temporaryFileGone = false

    init(key: CacheKey, store: DiskCache, descriptor: Int32, temporaryName: String) {
        self.key = key
        self.store = store
        self.descriptor = descriptor
        self.temporaryName = temporaryName
        self.reservation = SpaceReservation(in: store)
    }

    deinit { abandon() }

    /// Where the bytes are until the commit, for checks that read them back.
    public var temporaryPath: String { store.configuration.directory + "/tmp/" + temporaryName }

    func reserveInitially(_ bytes: Int64) {
        switch reservation.grow(by: bytes) {
        case .granted: break
        case .noRoom: isStoring = false
        case .unknown: reservationDeferred = true
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after commit or abandon")
        let needed = DiskCache.usageEstimate(forSize: bytesWritten + Int64(bytes.count))
        let reserved = reservation.bytes
        if isStoring && !reservationDeferred && needed > reserved {
            // Grow generously for long downloads, exactly when that fails.
            let generous = max(needed, min(reserved * 2, reserved + 8 << 20))
            if !reservation.grow(by: generous - reserved).isGranted && !reservation.grow(by: needed - reserved).isGranted {
                reservation.giveBack()
                isStoring = false
            }
        }
        do {
            try FileSystem.writeAll(descriptor, bytes, path: "tmp/" + temporaryName)
        } catch {
            if error.errno == ENOSPC || error.errno == EDQUOT { store.noteDiskFull() }
            throw error
        }
        bytesWritten += Int64(bytes.count)
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Keeps the bytes out of the store: ``commit()`` will hand them back
    /// unstored (a file that failed its check, a body of unknown end).
    public func stopStoring() {
        reservation.giveBack()
        reservationDeferred = false
        isStoring = false
    }

    /// Makes the bytes durable (on the committing thread, the blocking-work pool).
    func sync() throws {
        try FileSystem.check(fsync(descriptor), "fsync", "tmp/" + temporaryName)
    }

    /// The temporary file was moved into place or unlinked.
    func landed() {
        temporaryFileGone = true
    }

    /// Syncs the file to disk and moves it into place; returns it opened and
    /// pinned. When the store had no room, returns the content as an
    /// unstored hit instead (``CacheHit/isStored`` is false).
    public func commit() async throws -> CacheHit {
        precondition(!finished, "commit twice")
        finished = true
        defer {
            close(descriptor)
            descriptor = -1
        }
        do {
            return try await store.commit(self)
        } catch {
            reservation.giveBack()
            if !temporaryFileGone { store.discardTemporaryFile(temporaryName) }
            throw error
        }
    }

    /// Drops the write: the temporary file is removed and its space released.
    public func abandon() {
        guard !finished else { return }
        finished = true
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        store.discardTemporaryFile(temporaryName)
        reservation.giveBack()
    }
}
