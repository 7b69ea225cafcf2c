import CDynamicLinker

#if canImport(Glibc)
import Glibc
#endif

/// Lets go of the program code a process touched while it started or
/// worked and will not run again soon.
///
/// goedge is one large binary (the agent's server, TLS, Foundation); a
/// process that runs a sliver of it still ends up with over fifteen
/// megabytes of it resident, because the kernel maps the pages around each
/// one touched. The agent lets them go once it has started (its index
/// loaded) and after a quiet spell, the watcher before each sleep on
/// inotify: the pages are unmapped with `MADV_DONTNEED`, stay in the page
/// cache, and fault back in cheaply where they are used again, so resident
/// memory is what the process really runs (for an agent serving hits,
/// about half).
///
/// What to let go comes from the dynamic loader's own list of loaded
/// objects, read and acted on while the loader holds its lock: no library
/// can be loaded or unloaded meanwhile. (Reading `/proc/self/smaps` first
/// and advising afterwards raced with a library another thread was loading:
/// the loader maps the whole file read-only before it maps the segments
/// over it and relocates them, and the advice then discarded the
/// relocations; the next call through them jumped to a file offset.)
/// Only segments nobody writes are discarded: those the loader maps without
/// write permission, outside the part relocated at load (`PT_GNU_RELRO`),
/// in objects without text relocations. The writable data, of which
/// start-up reads megabytes without writing them, gets `MADV_PAGEOUT`
/// instead: a request to reclaim that the kernel carries out safely (a page
/// written meanwhile is kept, or swapped), never a discard.
package enum ResidentMemory {
    /// `MADV_PAGEOUT` (Linux 5.4); older kernels refuse it and nothing happens.
    static let pageOut: Int32 = 21

    /// What to advise, and where.
    struct Advice: Equatable {
        var start: UInt
        var length: UInt
        var advice: Int32
    }

    /// One loadable segment of a loaded object, at its place in memory.
    struct Segment: Equatable {
        var start: UInt
        /// Its size in the file (what the mapping holds from the file).
        var fileSize: UInt
        /// Its size in memory (more than in the file where zeroed data follows).
        var memorySize: UInt
        var writable: Bool
    }

    package static func trim() {
        // The callback allocates nothing and calls no Swift runtime that
        // could wait for a lock: the loader's lock is held throughout.
        _ = dl_iterate_phdr({ info, _, _ in
            guard let info else { return 0 }
            let object = info.pointee
            guard let headers = object.dlpi_phdr, !ResidentMemory.isVirtualObject(object.dlpi_name),
                !ResidentMemory.hasTextRelocations(object)
            else { return 0 }
            let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
            var relocated: Range<UInt> = 0..<0
            for index in 0..<Int(object.dlpi_phnum) where headers[index].p_type == UInt32(PT_GNU_RELRO) {
                let start = UInt(object.dlpi_addr) &+ UInt(headers[index].p_vaddr)
                relocated = start..<(start &+ UInt(headers[index].p_memsz))
            }
            for index in 0..<Int(object.dlpi_phnum) where headers[index].p_type == UInt32(PT_LOAD) {
                let header = headers[index]
                let segment = ResidentMemory.Segment(
                    start: UInt(object.dlpi_addr) &+ UInt(header.p_vaddr), fileSize: UInt(header.p_filesz),
                    memorySize: UInt(header.p_memsz), writable: header.p_flags & UInt32(PF_W) != 0)
                if let item = ResidentMemory.advice(for: segment, relocated: relocated, pageSize: pageSize) {
                    _ = madvise(UnsafeMutableRawPointer(bitPattern: item.start), Int(item.length), item.advice)
                }
            }
            return 0
        }, nil)
    }

    /// The advice for one segment, or nil. A read-only segment is discarded
    /// only in whole pages of its own (the pages it shares with a neighbour
    /// at either end may hold the neighbour's writable data), and never
    /// where the loader relocated. A writable one is paged out where it
    /// holds the file's data; its zeroed tail is the program's live state.
    static func advice(for segment: Segment, relocated: Range<UInt>, pageSize: UInt) -> Advice? {
        if segment.writable {
            let start = segment.start & ~(pageSize - 1)
            let end = segment.start &+ segment.fileSize
            guard end > start else { return nil }
            return Advice(start: start, length: end - start, advice: pageOut)
        }
        let start = (segment.start &+ pageSize - 1) & ~(pageSize - 1)
        let end = (segment.start &+ segment.memorySize) & ~(pageSize - 1)
        guard end > start, relocated.isEmpty || end <= relocated.lowerBound || start >= relocated.upperBound else { return nil }
        return Advice(start: start, length: end - start, advice: MADV_DONTNEED)
    }

    /// The kernel's vDSO: no file behind it, nothing to let go.
    private static func isVirtualObject(_ name: UnsafePointer<CChar>?) -> Bool {
        guard let name else { return false }
        return strstr(name, "linux-vdso") != nil || strstr(name, "linux-gate") != nil
    }

    /// An object whose code the loader writes to at load time: its code pages are private copies.
    private static func hasTextRelocations(_ object: goedge_loaded_object) -> Bool {
        guard let headers = object.dlpi_phdr else { return true }
        for index in 0..<Int(object.dlpi_phnum) where headers[index].p_type == UInt32(PT_DYNAMIC) {
            guard var entry = UnsafePointer<Elf64_Dyn>(bitPattern: UInt(object.dlpi_addr) &+ UInt(headers[index].p_vaddr)) else {
                return true
            }
            while entry.pointee.d_tag != Int64(DT_NULL) {
                if entry.pointee.d_tag == Int64(DT_TEXTREL) { return true }
                if entry.pointee.d_tag == Int64(DT_FLAGS) && entry.pointee.d_un.d_val & UInt64(DF_TEXTREL) != 0 { return true }
                entry += 1
            }
        }
        return false
    }
}
