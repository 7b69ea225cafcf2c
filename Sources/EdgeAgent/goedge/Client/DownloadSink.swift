import Foundation
import Synchronization
import Upstream

#if canImport(Glibc)
import Glibc
#endif

/// Where `goedge prefetch` puts a file it has the agent serve through the
/// module protocol (when it walks the module graph itself): counted only,
/// kept in memory (a go.mod to read or check), or in an unlinked temporary
/// file (a zip to check against go.sum). Each refuses more than a module's
/// file may hold (the go command's limits).
final class DownloadSink: ResponseBodySink {
    enum Keep: Sendable {
        case nothing
        case memory
        /// An open, already unlinked temporary file.
        case file(Int32)

        var isKept: Bool {
            if case .nothing = self { false } else { true }
        }
    }

    private struct State {
        var count: Int64 = 0
        var bytes: [UInt8] = []
        var refusal: String?
    }
    private let state = Mutex(State())
    private let keep: Keep
    private let limit: Int64

    init(keep: Keep, limit: Int64) {
        self.keep = keep
        self.limit = limit
    }

    /// An unlinked temporary file to download into, or nil when none can be made.
    static func temporaryFile() -> Int32? {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((folder + "/goedge-prefetch-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    var count: Int64 { state.withLock { $0.count } }
    var bytes: [UInt8] { state.withLock { $0.bytes } }
    var refusal: String? { state.withLock { $0.refusal } }

    func receive(_ buffer: UnsafeRawBufferPointer) -> SinkVerdict {
        state.withLock { state in
            guard state.count + Int64(buffer.count) <= limit else {
                state.refusal = "the answer is larger than a module's file may be (\(limit) bytes)"
                return .refused
            }
            state.count += Int64(buffer.count)
            switch keep {
            case .nothing:
                break
            case .memory:
                state.bytes.append(contentsOf: buffer)
            case .file(let fd):
                var offset = 0
                while offset < buffer.count {
                    let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else {
                        state.refusal = "cannot write the download to a temporary file: \(String(cString: strerror(errno)))"
                        return .refused
                    }
                    offset += written
                }
            }
            return .accepted
        }
    }
}
