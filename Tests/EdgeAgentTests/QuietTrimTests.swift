import Synchronization
import Testing

@testable import AgentServer

@Suite struct QuietTrimTests {
    /// Once per burst of work, after the quiet period, never while working.
    @Test func trimsOnceAfterEachBurstOfWork() {
        let start = ContinuousClock.now
        let trims = Atomic<Int>(0)
        let quietTrim = QuietTrim(quiet: .seconds(10)) { trims.add(1, ordering: .relaxed) }
        quietTrim.check(working: false, now: start + .seconds(60))
        #expect(trims.load(ordering: .relaxed) == 0, "nothing worked yet")
        quietTrim.check(working: true, now: start + .seconds(61))
        quietTrim.check(working: false, now: start + .seconds(70))
        #expect(trims.load(ordering: .relaxed) == 0, "not quiet long enough")
        quietTrim.check(working: false, now: start + .seconds(71))
        #expect(trims.load(ordering: .relaxed) == 1)
        quietTrim.check(working: false, now: start + .seconds(90))
        #expect(trims.load(ordering: .relaxed) == 1, "once per burst")
        quietTrim.check(working: true, now: start + .seconds(91))
        quietTrim.check(working: false, now: start + .seconds(101))
        #expect(trims.load(ordering: .relaxed) == 2)
    }
}
