import Testing

@testable import GoModules
@testable import Upstream
@testable import ModuleProxy
@testable import Prefetch
@testable import CacheAdmin
@testable import FolderWatch

/// The upstream engine's queues, driven directly: no libcurl, no threads.
@Suite struct TransferQueuesTests {
    @Test func clientTransfersStartAtOnceAndBackgroundOnesWithinTheLimit() {
        var queues = TransferQueues<String>(backgroundLimit: 2)
        for name in ["b1", "b2", "b3"] { queues.enqueue(name, background: true) }
        queues.enqueue("c1", background: false)
        #expect(queues.admit { _ in false } == ["c1", "b1", "b2"])
        #expect(queues.admit { _ in false } == [])
        queues.backgroundEnded()
        #expect(queues.admit { _ in false } == ["b3"])
        #expect(queues.waiting == 0)
    }

    @Test func aPromotedTransferGoesPastTheLimit() {
        var queues = TransferQueues<String>(backgroundLimit: 1)
        for name in ["b1", "b2", "b3"] { queues.enqueue(name, background: true) }
        #expect(queues.admit { _ in false } == ["b1"])
        #expect(queues.admit { $0 == "b3" } == ["b3"])
        // Promoted transfers are background work that ends as such.
        #expect(queues.runningBackground == 2)
        queues.backgroundEnded()
        queues.backgroundEnded()
        #expect(queues.admit { _ in false } == ["b2"])
    }

    /// A client raises a promotion on another thread at any moment: here,
    /// between two looks at the same transfer. The transfer must come out
    /// once, admitted or still queued. (The engine once filtered the promoted
    /// transfers, then removed "the promoted ones" with a second look: one
    /// promoted in between was removed without being admitted, and its
    /// client waited forever.)
    @Test func aPromotionRaisedWhileAdmittingLosesNothing() {
        var queues = TransferQueues<String>(backgroundLimit: 1)
        for name in ["b1", "b2", "b3", "b4"] { queues.enqueue(name, background: true) }
        #expect(queues.admit { _ in false } == ["b1"])
        var looks: [String: Int] = [:]
        let admitted = queues.admit { transfer in
            looks[transfer, default: 0] += 1
            // b3 turns promoted after its first look.
            return transfer == "b3" && looks[transfer]! > 1
        }
        let left = queues.drain()
        #expect(Set(admitted + left) == ["b2", "b3", "b4"])
        #expect(admitted.count + left.count == 3)
    }

    @Test func drainTakesEverythingStillWaiting() {
        var queues = TransferQueues<String>(backgroundLimit: 1)
        queues.enqueue("b1", background: true)
        queues.enqueue("b2", background: true)
        _ = queues.admit { _ in false }
        queues.enqueue("c1", background: false)
        #expect(queues.drain().sorted() == ["b2", "c1"])
        #expect(queues.waiting == 0)
    }
}
