import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import AgentServer

@Suite struct ResidentMemoryTests {
    private static let page: UInt = 0x1000
    private static let noRelocation: Range<UInt> = 0..<0

    @Test func readOnlyCodeIsDiscardedInItsOwnWholePages() {
        let code = ResidentMemory.Segment(start: 0x5555_5555_4800, fileSize: 0x3000, memorySize: 0x3000, writable: false)
        #expect(ResidentMemory.advice(for: code, relocated: Self.noRelocation, pageSize: Self.page)
            == .init(start: 0x5555_5555_5000, length: 0x2000, advice: MADV_DONTNEED))
        let small = ResidentMemory.Segment(start: 0x5555_5555_4800, fileSize: 0x900, memorySize: 0x900, writable: false)
        #expect(ResidentMemory.advice(for: small, relocated: Self.noRelocation, pageSize: Self.page) == nil)
    }

    /// Relocated at load and then made read-only: its pages are private
    /// copies, and discarding them would bring back the file's unrelocated bytes.
    @Test func whatTheLoaderRelocatedIsKept() {
        let segment = ResidentMemory.Segment(start: 0x7fff_f700_0000, fileSize: 0x4000, memorySize: 0x4000, writable: false)
        #expect(ResidentMemory.advice(for: segment, relocated: 0x7fff_f700_3000..<0x7fff_f700_3800, pageSize: Self.page) == nil)
        #expect(ResidentMemory.advice(for: segment, relocated: 0x7fff_f700_4000..<0x7fff_f700_5000, pageSize: Self.page)
            == .init(start: 0x7fff_f700_0000, length: 0x4000, advice: MADV_DONTNEED))
    }

    /// Writable data is only ever paged out (the kernel keeps what is
    /// written meanwhile), and only where it comes from the file.
    @Test func writableDataIsPagedOutNeverDiscarded() {
        let data = ResidentMemory.Segment(start: 0x5555_5555_8100, fileSize: 0x1f00, memorySize: 0x9000, writable: true)
        #expect(ResidentMemory.advice(for: data, relocated: Self.noRelocation, pageSize: Self.page)
            == .init(start: 0x5555_5555_8000, length: 0x2000, advice: ResidentMemory.pageOut))
        let zeroed = ResidentMemory.Segment(start: 0x5555_5555_8000, fileSize: 0, memorySize: 0x9000, writable: true)
        #expect(ResidentMemory.advice(for: zeroed, relocated: Self.noRelocation, pageSize: Self.page) == nil)
    }

    /// The real thing, in this process: after a trim the code still runs
    /// and the relocated data still holds its pointers.
    @Test func theProcessRunsOnAfterATrimWithLessOfItsCodeResident() throws {
        let before = try #require(Self.residentFileKiB())
        ResidentMemory.trim()
        let after = try #require(Self.residentFileKiB())
        #expect(after < before, "RssFile \(before) kB -> \(after) kB")
        let text = String(repeating: "x", count: 100)
        #expect(text.count == 100)
        #expect(strlen("after a trim") == 12)
    }

    /// `RssFile:` of /proc/self/status: resident pages backed by files (code, mostly).
    private static func residentFileKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssFile:") }
        return line?.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
}

@Suite struct ResidentMemoryRaceTests {
    typealias Compress = @convention(c) (
        UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<UInt32>?, UnsafeMutablePointer<CChar>?, UInt32, Int32, Int32, Int32
    ) -> Int32

    /// A library another thread loads while the agent trims (libcurl on the
    /// first miss, an NSS module on a name lookup) must come out whole: the
    /// loader first maps the whole file read-only, then maps its segments
    /// over it and relocates them; advice based on a reading from before
    /// would discard the relocations, and the next call through them jumps
    /// to a file offset (a CI run saw the agent die so, at 0x12260).
    @Test func aLibraryLoadedWhileTrimmingComesOutWhole() throws {
        let name = "libbz2.so.1.0"
        try #require(dlopen(name, RTLD_NOW | RTLD_NOLOAD) == nil, "\(name) is already loaded: the test needs a library to load")
        // Bounded in time: the window is a few microseconds a load.
        let until = ContinuousClock.now + .seconds(3)
        let done = Atomic<Bool>(false)
        let compressions = Atomic<Int>(0)
        let loader = Thread {
            defer { done.store(true, ordering: .releasing) }
            var source = [CChar](repeating: 65, count: 4096)
            var destination = [CChar](repeating: 0, count: 8192)
            while ContinuousClock.now < until {
                guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
                if let symbol = dlsym(handle, "BZ2_bzBuffToBuffCompress") {
                    let compress = unsafeBitCast(symbol, to: Compress.self)
                    var length = UInt32(destination.count)
                    // bzip2 allocates through the relocated pointer to malloc.
                    if compress(&destination, &length, &source, UInt32(source.count), 1, 0, 0) == 0 {
                        compressions.add(1, ordering: .relaxed)
                    }
                }
                dlclose(handle)
            }
        }
        loader.start()
        var trims = 0
        while !done.load(ordering: .acquiring) {
            ResidentMemory.trim()
            trims += 1
        }
        #expect(trims > 0)
        // The library really was loaded and called, again and again.
        #expect(compressions.load(ordering: .relaxed) > 100)
    }
}
