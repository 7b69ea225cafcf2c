/// Names one file in the store: a group, which is the unit of eviction, and a
/// file within it.
///
/// A group is any string the caller chooses (goedge uses one group per
/// module@version, one per module's version list, one per sumdb tile, …). The
/// store turns it into a single directory name of its own, so a group can never
/// name a path outside the store, whatever it contains.
public struct CacheKey: Hashable, Sendable, CustomStringConvertible {
    /// The eviction unit this file belongs to.
    public let group: String
    /// The file's name inside its group: a short name made of `[a-z0-9._-]`.
    public let name: String

    /// Creates a key, or fails when the group cannot be stored as one directory
    /// name or the file name is not a plain short name.
    public init(group: String, name: String) throws(CacheKeyError) {
        guard !group.isEmpty else { throw .emptyGroup }
        guard let directoryName = GroupDirectoryName.encode(group) else { throw .groupTooLong(group) }
        guard Self.isValidFileName(name) else { throw .invalidFileName(name) }
        self.group = group
        self.name = name
        self.relativePath =
            GroupDirectoryName.shardDirectoryName(GroupDirectoryName.shard(of: group)) + "/" + directoryName + "/" + name
    }

    /// `shard/group/name` below the data folder, worked out once.
    let relativePath: String

    /// The group's directory name under its shard.
    var directoryName: String {
        // Validated in init: the encoding exists.
        GroupDirectoryName.encode(group)!
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.group == rhs.group && lhs.name == rhs.name }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(group)
        hasher.combine(name)
    }

    public var description: String { "\(group)#\(name)" }

    static func isValidFileName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64, name.utf8.first != UInt8(ascii: ".") else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }
}

/// Why a ``CacheKey`` could not be made.
public enum CacheKeyError: Error, Equatable, CustomStringConvertible {
    case emptyGroup
    case groupTooLong(String)
    case invalidFileName(String)

    public var description: String {
        switch self {
        case .emptyGroup: "empty cache group"
        case .groupTooLong(let group): "cache group too long to store: \(group.prefix(80))…"
        case .invalidFileName(let name): "invalid cache file name \"\(name)\""
        }
    }
}
