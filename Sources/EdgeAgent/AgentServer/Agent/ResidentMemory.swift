#if canImport(Glibc)
import Glibc
#endif

/// Lets go of the program code a process touched while it started or
/// worked and will not run again soon.
///
/// goedge is one large static binary (the agent's server, TLS, Foundation);
/// a process that runs a sliver of it still ends up with over fifteen
/// megabytes of it resident, because the kernel maps the pages around each
/// one touched. The agent lets them go once it has started (its index
/// loaded), and the watcher before each sleep on inotify: the pages are
/// unmapped with `MADV_DONTNEED`, stay in the page cache, and fault back in
/// cheaply where they are used again, so resident memory is what the
/// process really runs (for an agent serving hits, about half).
///
/// Only read-only file mappings holding no private copies are unmapped so:
/// for those, dropping the pages loses nothing. (A read-only mapping with
/// private copies, such as relocated data made read-only after start, must
/// keep them.) The binary's writable data, of which start-up reads megabytes
/// without writing them, gets `MADV_PAGEOUT` instead: a request to reclaim
/// that the kernel carries out safely (a page written meanwhile is kept, or
/// swapped), never a discard.
package enum ResidentMemory {
    /// `MADV_PAGEOUT` (Linux 5.4); older kernels refuse it and nothing happens.
    private static let pageOut: Int32 = 21

    package static func trim() {
        // Decided first, done last: reading smaps runs code that would fault
        // pages back in (64 KiB around each fault) right after they went.
        var advice: [(start: UInt, length: Int, advice: Int32)] = []
        advice.reserveCapacity(256)
        guard let smaps = fopen("/proc/self/smaps", "r") else { return }
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
                guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                    fields.count >= 6, fields[5].hasPrefix("/")
                else { continue }
                if fields[1] == "rw-p" {
                    advice.append((start, Int(end - start), pageOut))
                } else if fields[1].hasPrefix("r") && !fields[1].contains("w") {
                    candidate = (start, end)
                }
            } else if first == "Anonymous:", let mapping = candidate {
                candidate = nil
                if fields.count >= 2 && fields[1] == "0" {
                    advice.append((mapping.start, Int(mapping.end - mapping.start), MADV_DONTNEED))
                }
            }
        }
        fclose(smaps)
        advice.withUnsafeBufferPointer { advice in
            for item in advice { _ = madvise(UnsafeMutableRawPointer(bitPattern: item.start), item.length, item.advice) }
        }
    }
}
