/// The in-memory index of the store: every group with its files and sizes,
/// ordered from most to least recently used.
///
/// A plain value type with no I/O and no locking, so that accounting and
/// eviction order can be tested on their own; ``DiskCache`` owns one behind a
/// lock. Recency is an intrusive doubly linked list over an array of nodes,
/// so that a use, an insertion and a removal are all O(1).
struct CacheIndex {
    struct File: Equatable, Sendable {
        var name: String
        /// Length of the content in bytes.
        var size: Int64
        /// Bytes the file occupies on disk (allocated blocks).
        var diskUsage: Int64
        /// When the content was stored or last revalidated (nanoseconds since the epoch).
        var storedAt: Int64
        /// The content itself, for small files read since they were stored:
        /// served from memory with no file access.
        var content: [UInt8]? = nil
    }

    struct Group: Sendable {
        var key: String
        /// The group's files; its disk usage follows them.
        var files: [File] {
            didSet { diskUsage = Self.usage(files, directoryUsage) }
        }
        /// Disk usage of the group's own directory.
        var directoryUsage: Int64 {
            didSet { diskUsage = Self.usage(files, directoryUsage) }
        }
        /// Its files and its directory, kept as they change (every hit looks at it).
        private(set) var diskUsage: Int64 = 0
        /// Last use, in nanoseconds since the epoch.
        var lastUsed: Int64
        /// The last use that was written to disk (as a file's atime), so that
        /// LRU order survives a restart without a write on every hit.
        var persistedUse: Int64
        /// Readers currently sending one of the group's files: pinned groups are never evicted.
        var pins: Int
        /// Tells this group apart from an earlier one under the same key
        /// (removed, then stored again), so a late unpin cannot reach it.
        var generation: UInt64 = 0

        init(
            key: String, files: [File], directoryUsage: Int64, lastUsed: Int64, persistedUse: Int64, pins: Int, generation: UInt64 = 0
        ) {
            self.key = key
            self.files = files
            self.directoryUsage = directoryUsage
            self.lastUsed = lastUsed
            self.persistedUse = persistedUse
            self.pins = pins
            self.generation = generation
            diskUsage = Self.usage(files, directoryUsage)
        }

        private static func usage(_ files: [File], _ directoryUsage: Int64) -> Int64 {
            directoryUsage + files.reduce(0) { $0 + $1.diskUsage }
        }

        var contentBytes: Int { files.reduce(0) { $0 + ($1.content?.count ?? 0) } }
        var size: Int64 { files.reduce(0) { $0 + $1.size } }

        func file(named name: String) -> File? { files.first { $0.name == name } }
    }

    private struct Node {
        var group: Group?
        var newer: Int
        var older: Int
    }

    private var nodes: [Node] = []
    private var freeSlots: [Int] = []
    private var slotByKey: [String: Int] = [:]
    private var newest = -1
    private var oldest = -1
    private var generations: UInt64 = 0

    /// Disk usage of all groups: their files and their directories.
    private(set) var diskUsage: Int64 = 0
    /// Disk usage of the groups no reader pins: what eviction could free at
    /// most, kept as a running total so that "is there room?" costs O(1).
    private(set) var evictableUsage: Int64 = 0
    /// Bytes of file content held in memory.
    private(set) var contentBytes = 0
    private(set) var fileCount = 0
    var groupCount: Int { slotByKey.count }

    /// Pins held on all groups (a walk over the index: for checks, not the hot path).
    var pinCount: Int { nodes.reduce(0) { $0 + ($1.group?.pins ?? 0) } }

    func group(_ key: String) -> Group? {
        slotByKey[key].flatMap { nodes[$0].group }
    }

    func file(_ key: CacheKey) -> File? {
        group(key.group)?.file(named: key.name)
    }

    /// Adds or replaces a file, creating its group when needed; the group
    /// becomes the most recently used.
    mutating func store(_ file: File, inGroup key: String, directoryUsage: Int64, now: Int64) {
        if let slot = slotByKey[key] {
            var replaced: File?
            modify(slot) { group in
                if let existing = group.files.firstIndex(where: { $0.name == file.name }) {
                    replaced = group.files[existing]
                    group.files[existing] = file
                } else {
                    group.files.append(file)
                }
                group.lastUsed = max(group.lastUsed, now)
            }
            diskUsage += file.diskUsage - (replaced?.diskUsage ?? 0)
            contentBytes += (file.content?.count ?? 0) - (replaced?.content?.count ?? 0)
            if replaced == nil { fileCount += 1 }
            moveToNewest(slot)
        } else {
            insert(
                Group(
                    key: key, files: [file], directoryUsage: directoryUsage, lastUsed: now, persistedUse: now,
                    pins: 0))
        }
    }

    /// Adds a whole group as the most recently used one (the rebuild inserts
    /// groups oldest first).
    mutating func insert(_ group: Group) {
        precondition(slotByKey[group.key] == nil, "group inserted twice")
        var group = group
        generations += 1
        group.generation = generations
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            nodes[slot] = Node(group: group, newer: -1, older: -1)
        } else {
            slot = nodes.count
            nodes.append(Node(group: group, newer: -1, older: -1))
        }
        slotByKey[group.key] = slot
        diskUsage += group.diskUsage
        if group.pins == 0 { evictableUsage += group.diskUsage }
        contentBytes += group.contentBytes
        fileCount += group.files.count
        linkAsNewest(slot)
    }

    /// Records a use. Returns true when the use should also be written to
    /// disk, because the last written one is older than `resolution`.
    mutating func recordUse(of key: String, now: Int64, resolution: Int64) -> Bool {
        guard let slot = slotByKey[key] else { return false }
        var persist = false
        modify(slot) { group in
            group.lastUsed = max(group.lastUsed, now)
            if now - group.persistedUse >= resolution {
                group.persistedUse = now
                persist = true
            }
        }
        moveToNewest(slot)
        return persist
    }

    /// What a read of one file needs from the index.
    struct FileUse {
        var file: File
        /// The use should also be written to disk (see ``recordUse(of:now:resolution:)``).
        var persistUse: Bool
        /// To unpin with, when the read pinned the group.
        var pin: GroupPin
    }

    /// A pin on one group: where it sits and which group it was. Unpinning
    /// finds the group by its slot (no hashing of its name); a group stored
    /// since in that slot has another generation (generations are never
    /// reused), so a late unpin cannot reach it.
    struct GroupPin: Equatable {
        var slot: Int
        var generation: UInt64
    }

    /// Finds a file and, when it is there and at most `sizeLimit` bytes long,
    /// records a use of its group and pins the group if asked: what
    /// ``file(_:)``, ``recordUse(of:now:resolution:)`` and ``pin(_:)`` do
    /// together, with one lookup, since every cache hit does it.
    mutating func useFile(
        _ key: CacheKey, now: Int64, resolution: Int64, pin: Bool, sizeLimit: Int64 = .max
    ) -> FileUse? {
        guard let slot = slotByKey[key.group] else { return nil }
        var use: FileUse?
        modify(slot) { group in
            guard let file = group.file(named: key.name), file.size <= sizeLimit else { return }
            group.lastUsed = max(group.lastUsed, now)
            let persist = now - group.persistedUse >= resolution
            if persist { group.persistedUse = now }
            if pin { group.pins += 1 }
            use = FileUse(file: file, persistUse: persist, pin: GroupPin(slot: slot, generation: group.generation))
        }
        if use != nil { moveToNewest(slot) }
        return use
    }

    /// Pins a group; returns the pin, to unpin with, or nil if absent.
    @discardableResult
    mutating func pin(_ key: String) -> GroupPin? {
        guard let slot = slotByKey[key] else { return nil }
        var generation: UInt64 = 0
        modify(slot) { group in
            group.pins += 1
            generation = group.generation
        }
        return GroupPin(slot: slot, generation: generation)
    }

    /// Unpins the group `pin` was taken on; a group that has since been
    /// removed (and perhaps another stored in its slot) is left alone.
    mutating func unpin(_ pin: GroupPin) {
        let slot = pin.slot
        guard slot < nodes.count, nodes[slot].group?.generation == pin.generation else { return }
        modify(slot) { group in
            precondition(group.pins > 0, "unbalanced unpin")
            group.pins -= 1
        }
    }

    mutating func setStoredAt(_ key: CacheKey, to time: Int64) {
        guard let slot = slotByKey[key.group] else { return }
        modify(slot) { group in
            if let index = group.files.firstIndex(where: { $0.name == key.name }) {
                group.files[index].storedAt = time
            }
        }
    }

    /// Keeps `content` in memory for the file, if it is still the one that
    /// was read (same size and time). Returns whether it was kept.
    @discardableResult
    mutating func setContent(_ content: [UInt8], for key: CacheKey, storedAt: Int64) -> Bool {
        guard let slot = slotByKey[key.group] else { return false }
        var kept = false
        modify(slot) { group in
            if let index = group.files.firstIndex(where: { $0.name == key.name }),
                group.files[index].content == nil, group.files[index].storedAt == storedAt,
                group.files[index].size == Int64(content.count)
            {
                group.files[index].content = content
                kept = true
            }
        }
        if kept { contentBytes += content.count }
        return kept
    }

    @discardableResult
    mutating func removeGroup(_ key: String) -> Group? {
        guard let slot = slotByKey.removeValue(forKey: key), let group = nodes[slot].group else { return nil }
        unlink(slot)
        nodes[slot].group = nil
        freeSlots.append(slot)
        diskUsage -= group.diskUsage
        if group.pins == 0 { evictableUsage -= group.diskUsage }
        contentBytes -= group.contentBytes
        fileCount -= group.files.count
        return group
    }

    /// Removes one file; a group left without files is removed too and returned.
    mutating func removeFile(_ key: CacheKey) -> (file: File, emptiedGroup: Group?)? {
        guard let slot = slotByKey[key.group], let group = nodes[slot].group,
            let position = group.files.firstIndex(where: { $0.name == key.name })
        else { return nil }
        let file = group.files[position]
        if group.files.count == 1 {
            return (file, removeGroup(key.group))
        }
        modify(slot) { $0.files.remove(at: position) }
        diskUsage -= file.diskUsage
        contentBytes -= file.content?.count ?? 0
        fileCount -= 1
        return (file, nil)
    }

    /// Unpinned groups from least to most recently used: the eviction order.
    func evictionCandidates() -> some Sequence<Group> {
        sequence(state: oldest) { slot -> Group?? in
            guard slot >= 0 else { return nil }
            let node = nodes[slot]
            slot = node.newer
            return node.group
        }
        .lazy.compactMap { $0 }.filter { $0.pins == 0 }
    }

    /// All groups from most to least recently used.
    func groupsByRecency() -> [Group] {
        var result: [Group] = []
        result.reserveCapacity(groupCount)
        var slot = newest
        while slot >= 0 {
            if let group = nodes[slot].group { result.append(group) }
            slot = nodes[slot].older
        }
        return result
    }

    // MARK: Linked list

    /// Changes a group in place (taken out of its node, so the change does
    /// not copy it), keeping the evictable total right whatever changed:
    /// its files or its pins.
    private mutating func modify(_ slot: Int, _ body: (inout Group) -> Void) {
        var group = nodes[slot].group!
        nodes[slot].group = nil
        let evictableBefore = group.pins == 0 ? group.diskUsage : 0
        body(&group)
        evictableUsage += (group.pins == 0 ? group.diskUsage : 0) - evictableBefore
        nodes[slot].group = group
    }

    private mutating func moveToNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    private mutating func linkAsNewest(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = -1
        if newest >= 0 { nodes[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let newer = nodes[slot].newer
        let older = nodes[slot].older
        if newer >= 0 { nodes[newer].older = older } else { newest = older }
        if older >= 0 { nodes[older].newer = newer } else { oldest = newer }
        nodes[slot].newer = -1
        nodes[slot].older = -1
    }
}
