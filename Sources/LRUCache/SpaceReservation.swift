/// Room held in a store for one file being written: taken from the store's
/// budget as the file grows, and given back when the reservation ends,
/// unless the commit made it the file's usage.
///
/// Not copyable, so it has one owner (the file's ``CacheWriter``) and is
/// counted once: the store keeps only the sum of all reservations. However
/// the writer ends (committed, abandoned, dropped, failed midway), what it
/// still holds goes back when the reservation does.
struct SpaceReservation: ~Copyable {
    private let store: DiskCache
    /// Bytes held now.
    private(set) var bytes: Int64 = 0

    /// An empty reservation in `store`.
    init(in store: DiskCache) {
        self.store = store
    }

    /// Holds `more` bytes besides; unchanged unless granted.
    mutating func grow(by more: Int64) -> DiskCache.Reservation {
        let outcome = store.reserve(more)
        if case .granted = outcome, more > 0 { bytes += more }
        return outcome
    }

    /// Gives back everything held, now (the file will not be stored).
    mutating func giveBack() {
        store.releaseReservation(bytes)
        bytes = 0
    }

    /// The commit turned what is held into the file's usage: taken out of
    /// the reservations' sum under the store's lock, nothing to give back.
    mutating func becomeUsage(_ state: inout DiskCache.State) {
        state.reserved -= bytes
        bytes = 0
    }

    deinit {
        store.releaseReservation(bytes)
    }
}
