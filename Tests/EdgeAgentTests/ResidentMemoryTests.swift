import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import AgentServer

@Suite struct ResidentMemoryTests {
    private static let smaps = """
        555555554000-555555556000 r--p 00000000 fe:01 100 /usr/bin/goedge
        Anonymous:             0 kB
        555555556000-555555558000 r-xp 00002000 fe:01 100 /usr/bin/goedge
        Anonymous:             0 kB
        555555558000-55555555a000 rw-p 00004000 fe:01 100 /usr/bin/goedge
        Anonymous:             8 kB
        55555555a000-55555555c000 r--p 00006000 fe:01 100 /usr/bin/goedge
        Anonymous:             8 kB
        7ffff0000000-7ffff0100000 r--p 00000000 fe:01 200 /var/cache/goedge/tmp/123-abc-1.part
        Anonymous:             0 kB
        7ffff7000000-7ffff7010000 r-xp 00000000 fe:01 300 /usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0
        Anonymous:             0 kB
        7ffff7100000-7ffff7110000 rw-p 00000000 00:00 0
        Anonymous:            64 kB
        7ffffffde000-7ffffffff000 r-xp 00000000 00:00 0                          [vdso]
        Anonymous:             0 kB
        """.split(separator: "\n").map { String($0) + "\n" }

    /// Only the program's own code files: a zip mapped by another thread for
    /// its check may be gone, and its addresses reused, by the time of the advice.
    @Test func onlyTheProgramsCodeIsLetGo() {
        let advice = ResidentMemory.plan(smaps: Self.smaps, executable: "/usr/bin/goedge")
        #expect(advice == [
            .init(start: 0x5555_5555_4000, length: 0x2000, advice: MADV_DONTNEED),
            .init(start: 0x5555_5555_6000, length: 0x2000, advice: MADV_DONTNEED),
            .init(start: 0x5555_5555_8000, length: 0x2000, advice: ResidentMemory.pageOut),
            .init(start: 0x7fff_f700_0000, length: 0x10000, advice: MADV_DONTNEED),
        ])
    }
}
