import Crypto

/// The checksum database's log as golang.org/x/mod/sumdb/tlog defines it:
/// an RFC 6962 Merkle tree over the records, its hashes stored in tiles of
/// height 8 (`tile/8/L/K[.p/W]`: the hashes of level 8·L, 256 to a tile, or
/// W in the partial tile at the tree's edge).
public enum TransparencyLog {
    public static let tileHeight = 8
    static let tileWidth = 1 << tileHeight

    /// A record's leaf hash.
    public static func recordHash(_ data: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0])
        hasher.update(data: Array(data))
        return Array(hasher.finalize())
    }

    static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: [1] + left + right))
    }

    /// A tile of hashes: level, index, and how many hashes it holds.
    public struct Tile: Hashable, Sendable {
        public let level: Int
        public let index: Int64
        public let width: Int

        /// Its path below the database's URL: `tile/8/L/x001/234[.p/W]`.
        public var path: String {
            var number = index
            var text = Self.threeDigits(number % 1000)
            while number >= 1000 {
                number /= 1000
                text = "x" + Self.threeDigits(number % 1000) + "/" + text
            }
            let partial = width == TransparencyLog.tileWidth ? "" : ".p/\(width)"
            return "tile/\(TransparencyLog.tileHeight)/\(level)/\(text)\(partial)"
        }

        private static func threeDigits(_ number: Int64) -> String {
            let digits = String(number)
            return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
        }
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Proves that the record `index` with leaf hash `leaf` is in the tree
    /// of `size` records whose hash is `root`, reading the other hashes the
    /// proof needs from tiles (`readTile` gives a tile's bytes, or throws).
    /// Throws when it is not.
    public static func proveInclusion(
        index: Int64, leaf: [UInt8], size: Int64, root: [UInt8], readTile: (Tile) async throws -> [UInt8]
    ) async throws -> Void {
        guard index >= 0, index < size else { throw Failure(description: "record \(index) is not in a tree of \(size)") }
        var tiles: [Tile: [UInt8]] = [:]
        func stored(level: Int, index: Int64) async throws -> [UInt8] {
            let tileLevel = level / tileHeight
            let within = level % tileHeight
            let first = index << within
            let count = 1 << within
            let tileIndex = first >> tileHeight
            let complete = size >> (tileLevel * tileHeight)
            let width = Int(min(Int64(tileWidth), complete - tileIndex * Int64(tileWidth)))
            let position = Int(first & Int64(tileWidth - 1))
            guard position + count <= width else { throw Failure(description: "a hash the proof needs is beyond the tree") }
            let tile = Tile(level: tileLevel, index: tileIndex, width: width)
            let bytes: [UInt8]
            if let known = tiles[tile] {
                bytes = known
            } else {
                bytes = try await readTile(tile)
                guard bytes.count == width * 32 else {
                    throw Failure(description: "tile \(tile.path) has \(bytes.count) bytes, not \(width * 32)")
                }
                tiles[tile] = bytes
            }
            var hashes = (position..<(position + count)).map { Array(bytes[($0 * 32)..<($0 * 32 + 32)]) }
            while hashes.count > 1 {
                hashes = stride(from: 0, to: hashes.count, by: 2).map { nodeHash(hashes[$0], hashes[$0 + 1]) }
            }
            return hashes[0]
        }
        func subtree(_ low: Int64, _ high: Int64) async throws -> [UInt8] {
            let count = high - low
            if count == 1 { return low == index ? leaf : try await stored(level: 0, index: low) }
            let holdsRecord = (low..<high).contains(index)
            if !holdsRecord, count & (count - 1) == 0 {
                let level = count.trailingZeroBitCount
                return try await stored(level: level, index: low >> level)
            }
            var split: Int64 = 1
            while split << 1 < count { split <<= 1 }
            return nodeHash(try await subtree(low, low + split), try await subtree(low + split, high))
        }
        guard try await subtree(0, size) == root else {
            throw Failure(description: "record \(index) is not in the signed tree of \(size) records")
        }
    }
}
