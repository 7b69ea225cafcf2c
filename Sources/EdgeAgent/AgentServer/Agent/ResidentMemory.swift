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
    static let pageOut: Int32 = 21

    /// What to advise, and where.
    struct Advice: Equatable {
        var start: UInt
        var length: Int
        var advice: Int32
    }

    package static func trim() {
        // Decided first, done last: reading smaps runs code that would fault
        // pages back in (64 KiB around each fault) right after they went.
        guard let smaps = fopen("/proc/self/smaps", "r") else { return }
        var lines: [String] = []
        lines.reserveCapacity(4096)
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), smaps) != nil {
            lines.append(String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        fclose(smaps)
        var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &target, target.count - 1)
        guard length > 0 else { return }
        let executable = String(decoding: target.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let advice = plan(smaps: lines, executable: executable)
        advice.withUnsafeBufferPointer { advice in
            for item in advice { _ = madvise(UnsafeMutableRawPointer(bitPattern: item.start), item.length, item.advice) }
        }
    }

    /// The advice for the mappings `smaps` lists. Only the program's own code
    /// files (the executable and shared libraries) qualify: they stay mapped
    /// for the process's life. Any other file mapping (a zip being checked,
    /// in another thread) may be unmapped between this reading and the
    /// advice, and its addresses reused for memory that `MADV_DONTNEED`
    /// would zero.
    static func plan(smaps lines: [String], executable: String) -> [Advice] {
        var advice: [Advice] = []
        var candidate: (start: UInt, end: UInt)?
        for text in lines {
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.contains("-"), fields.count >= 5 {
                // A mapping's first line: `start-end perms offset dev inode [path]`.
                candidate = nil
                let bounds = first.split(separator: "-")
                guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                    let slash = text.firstIndex(of: "/")
                else { continue }
                let path = text[slash...].trimmingSuffix("\n")
                guard path.hasPrefix(executable) || isSharedLibrary(path) else { continue }
                if fields[1] == "rw-p" {
                    advice.append(Advice(start: start, length: Int(end - start), advice: pageOut))
                } else if fields[1].hasPrefix("r") && !fields[1].contains("w") {
                    candidate = (start, end)
                }
            } else if first == "Anonymous:", let mapping = candidate {
                candidate = nil
                if fields.count >= 2 && fields[1] == "0" {
                    advice.append(Advice(start: mapping.start, length: Int(mapping.end - mapping.start), advice: MADV_DONTNEED))
                }
            }
        }
        return advice
    }

    /// `/usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0` and the like.
    private static func isSharedLibrary(_ path: Substring) -> Bool {
        let name = path.split(separator: "/").last ?? ""
        return name.hasSuffix(".so") || name.contains(".so.")
    }
}

private extension Substring {
    func trimmingSuffix(_ suffix: String) -> Substring {
        hasSuffix(suffix) ? dropLast(suffix.count) : self
    }
}
