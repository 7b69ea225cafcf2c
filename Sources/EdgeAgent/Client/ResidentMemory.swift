#if canImport(Glibc)
import Glibc
#endif

/// Lets go of the program code a long-sleeping process touched while it
/// worked.
///
/// goedge is one large static binary (the agent's server, TLS, Foundation);
/// a watcher that runs a sliver of it still ends up with over ten megabytes
/// of it resident after starting and after each prefetch, because the kernel
/// maps the pages around each one touched. Before the watcher goes back to
/// sleep on inotify, it unmaps those pages with `MADV_DONTNEED`: they stay in
/// the page cache (so an agent starting from the same binary still finds them
/// there), they fault back in cheaply on the next save, and the watcher's
/// resident memory while it waits is what it really holds. `MADV_RANDOM`
/// keeps the kernel from mapping neighbours of each page touched later.
///
/// Only read-only file mappings holding no private copies are touched: for
/// those, dropping the pages loses nothing. (A read-only mapping with private
/// copies, such as relocated data made read-only after start, must keep them.)
enum ResidentMemory {
    static func trim() {
        guard let smaps = fopen("/proc/self/smaps", "r") else { return }
        defer { fclose(smaps) }
        var candidate: (start: UInt, end: UInt)?
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), smaps) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.contains("-"), fields.count >= 5 {
                // A mapping's first line: `start-end perms offset dev inode [path]`.
                candidate = nil
                let bounds = first.split(separator: "-")
                let readOnlyFile = fields[1].hasPrefix("r") && !fields[1].contains("w") && fields.count >= 6
                    && fields[5].hasPrefix("/")
                if readOnlyFile, bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16) {
                    candidate = (start, end)
                }
            } else if first == "Anonymous:", let mapping = candidate {
                candidate = nil
                if fields.count >= 2 && fields[1] == "0" {
                    let address = UnsafeMutableRawPointer(bitPattern: mapping.start)
                    let length = Int(mapping.end - mapping.start)
                    // Only the pages touched from now on, not their neighbours (no fault-around).
                    _ = madvise(address, length, MADV_RANDOM)
                    _ = madvise(address, length, MADV_DONTNEED)
                }
            }
        }
    }
}
