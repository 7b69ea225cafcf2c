import Synchronization
import Testing

import LRUCache

/// The one primitive goedge waits with: settled once, awaited by any
/// number of tasks, and left at once by a task that is cancelled.
@Suite struct SettlementTests {
    @Test func theFirstSettlementWins() async {
        let settlement = Settlement<Int>()
        #expect(settlement.settled == nil)
        #expect(settlement.settle(1))
        #expect(!settlement.settle(2))
        #expect(settlement.settled == 1)
        #expect(await settlement.value == 1)
    }

    @Test func waitersBeforeAndAfterTheSettlementAllGetIt() async {
        let settlement = Settlement<String>()
        await withTaskGroup(of: String.self) { group in
            for _ in 0..<50 { group.addTask { await settlement.value } }
            // Some of them are waiting by now; the rest come after.
            await Task.yield()
            settlement.settle("done")
            for _ in 0..<50 { group.addTask { await settlement.value } }
            var answers = 0
            for await value in group {
                #expect(value == "done")
                answers += 1
            }
            #expect(answers == 100)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aCancelledWaiterLeavesAtOnceAndTheOthersStillGetTheValue() async {
        let settlement = Settlement<Int>()
        let waiting = Count()
        let leaver = Task {
            waiting.value.add(1, ordering: .relaxed)
            return await settlement.value(orWhenCancelled: -1)
        }
        let stayer = Task {
            waiting.value.add(1, ordering: .relaxed)
            return await settlement.value(orWhenCancelled: -1)
        }
        for _ in 0..<10_000 where waiting.value.load(ordering: .relaxed) < 2 { await Task.yield() }
        leaver.cancel()
        // Not settled yet: the cancelled waiter came back with its fallback.
        #expect(await leaver.value == -1)
        #expect(settlement.settled == nil)
        settlement.settle(7)
        #expect(await stayer.value == 7)
    }

    @Test func aTaskCancelledBeforeItWaitsDoesNotWait() async {
        let settlement = Settlement<Int>()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await settlement.value(orWhenCancelled: 0)
        }
        #expect(await task.value == 0)
    }

    @Test func aSettledValueWinsOverCancellation() async {
        let settlement = Settlement<Int>()
        settlement.settle(5)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await settlement.value(orWhenCancelled: 0)
        }
        #expect(await task.value == 5)
    }

    /// Settling races waiters arriving and leaving: every waiter ends, each
    /// with the value or its fallback, none twice (a continuation resumed
    /// twice or never would trap or hang here).
    @Test(.timeLimit(.minutes(1))) func settlingWhileWaitersComeAndGoEndsEveryWaiter() async {
        for _ in 0..<20 {
            let settlement = Settlement<Int>()
            await withTaskGroup(of: Int.self) { group in
                var leavers: [Task<Int, Never>] = []
                for index in 0..<64 {
                    if index % 2 == 0 {
                        group.addTask { await settlement.value }
                    } else {
                        leavers.append(Task { await settlement.value(orWhenCancelled: -1) })
                    }
                }
                for (index, leaver) in leavers.enumerated() where index % 3 == 0 { leaver.cancel() }
                settlement.settle(1)
                for leaver in leavers {
                    let value = await leaver.value
                    #expect(value == 1 || value == -1)
                }
                for await value in group { #expect(value == 1) }
            }
        }
    }
}

private final class Count: Sendable {
    let value = Atomic<Int>(0)
}
