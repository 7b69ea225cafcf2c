#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Every connection and every file being sent takes a descriptor; the soft
/// limit a process starts with (often 1,024) is far below what the hard
/// limit allows. Raised at start, as nginx and most servers do.
enum OpenFileLimit {
    static func raiseToHardLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let previous = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            logger.notice("cannot raise the open-file limit", metadata: ["soft": "\(previous)", "hard": "\(limit.rlim_max)"])
        }
    }
}
