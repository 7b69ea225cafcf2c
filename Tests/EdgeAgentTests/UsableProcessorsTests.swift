import Foundation
import Testing

@testable import AgentServer
@testable import goedge
@testable import GoedgeConfiguration

@Suite struct UsableProcessorsTests {
    @Test func countsTheAffinityMask() {
        #expect(UsableProcessors.affinityCount(status: "Name:\tgoedge\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n") == 2)
        #expect(UsableProcessors.affinityCount(status: "Cpus_allowed:\tff,00000001\n") == 9)
        #expect(UsableProcessors.affinityCount(status: "Cpus_allowed:\t0\n") == nil)
        #expect(UsableProcessors.affinityCount(status: "Cpus_allowed:\tzz\n") == nil)
        #expect(UsableProcessors.affinityCount(status: "Name:\tgoedge\n") == nil)
    }

    @Test func thisProcessHasAtLeastOne() {
        let count = UsableProcessors.count
        #expect(count >= 1 && count <= ProcessInfo.processInfo.activeProcessorCount)
        #expect(UsableProcessors.affinityCount != nil)
    }
}
