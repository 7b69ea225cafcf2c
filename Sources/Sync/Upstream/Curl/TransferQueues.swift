/// The upstream engine's waiting rooms, as a plain value: client transfers
/// start at once; background transfers (prefetch, read-ahead) wait in a queue
/// of their own and run a few at a time, except those a client has come to
/// wait for, which go at once too.
///
/// Nothing here locks or blocks: the engine keeps it under its lock and
/// carries out what ``admit(isPromoted:)`` hands back. Every transfer put in
/// comes out exactly once, through ``admit(isPromoted:)`` or ``drain()``.
struct TransferQueues<Transfer> {
    private var client: [Transfer] = []
    private var background: [Transfer] = []
    /// Background transfers admitted and not yet finished (promoted ones included).
    private(set) var runningBackground = 0
    let backgroundLimit: Int

    init(backgroundLimit: Int) {
        self.backgroundLimit = max(1, backgroundLimit)
    }

    var waiting: Int { client.count + background.count }

    mutating func enqueue(_ transfer: Transfer, background isBackground: Bool) {
        if isBackground { background.append(transfer) } else { client.append(transfer) }
    }

    /// What may start now: every client transfer, every background transfer
    /// a client waits for (`isPromoted`), and as many others as the limit
    /// leaves room for, oldest first.
    ///
    /// `isPromoted` may change its answer at any moment (a client raises a
    /// promotion from another thread), so it is asked once per transfer: a
    /// transfer is either admitted or stays queued, never dropped.
    mutating func admit(isPromoted: (Transfer) -> Bool) -> [Transfer] {
        var admitted = client
        client.removeAll()
        var stillWaiting: [Transfer] = []
        stillWaiting.reserveCapacity(background.count)
        var room = backgroundLimit - runningBackground
        for transfer in background {
            if isPromoted(transfer) {
                admitted.append(transfer)
                runningBackground += 1
            } else if room > 0 {
                admitted.append(transfer)
                runningBackground += 1
                room -= 1
            } else {
                stillWaiting.append(transfer)
            }
        }
        background = stillWaiting
        return admitted
    }

    /// A background transfer admitted earlier has ended (finished, failed or abandoned).
    mutating func backgroundEnded() {
        precondition(runningBackground > 0, "a background transfer ended that was never admitted")
        runningBackground -= 1
    }

    /// Takes out everything still waiting (at shutdown).
    mutating func drain() -> [Transfer] {
        defer {
            client.removeAll()
            background.removeAll()
        }
        return client + background
    }
}
