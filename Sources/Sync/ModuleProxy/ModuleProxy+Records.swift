import LRUCache

/// Stored answers whose status and headers matter (``CachedRecord``), and
/// how fresh they are.
extension ModuleProxy {
    struct StoredRecord {
        var record: CachedRecord
        var storedAt: Int64
    }

    func loadRecord(_ key: CacheKey) -> StoredRecord? {
        let stored: (bytes: [UInt8], storedAt: Int64)
        if let small = store.content(key, limit: Self.memoryServedLimit) {
            stored = small
        } else {
            guard let hit = store.lookup(key) else { return nil }
            stored = ((try? hit.readAll()) ?? [], hit.storedAt)
        }
        guard let record = CachedRecord(decoding: stored.bytes) else {
            // Not a record (a damaged file): forget it rather than serve it.
            store.removeDamaged(key)
            return nil
        }
        return StoredRecord(record: record, storedAt: stored.storedAt)
    }

    func storeRecord(_ record: CachedRecord, at key: CacheKey) async {
        let bytes = record.encoded()
        do {
            let writer = try store.makeWriter(for: key, expectedSize: Int64(bytes.count))
            try writer.write(bytes)
            _ = try await writer.commit()
        } catch {
            logger.error("cannot store an answer", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }

    func isFresh(_ stored: StoredRecord, _ lifetime: ProxyResource.Lifetime) -> Bool {
        freshness.isFresh(lifetime: lifetime, status: stored.record.status, storedAt: stored.storedAt, now: clock.now())
    }
}
