#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CInflate

/// A module zip read from a file, trusting nothing in it.
///
/// Zips come from upstreams and from `goedge cache import`; a crafted one
/// must get a clear refusal, never a trap. So the central directory is read
/// here (not by a general zip library): every offset and size, ZIP64 fields
/// included, is checked against the file's length with overflow-checked
/// arithmetic before anything is read from where it points, and entries are
/// inflated through zlib with their sizes and CRC-32 checked as they go.
public struct ModuleZip: Sendable {
    public struct Failure: Error, CustomStringConvertible, Equatable, Sendable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public struct Entry: Sendable, Equatable {
        public let name: String
        /// 0 (stored) or 8 (deflated).
        let method: UInt16
        public let compressedSize: UInt64
        public let uncompressedSize: UInt64
        let crc32: UInt32
        let localHeaderOffset: UInt64
    }

    /// The go command's limits (golang.org/x/mod/zip).
    public static let maximumSize: UInt64 = 500 << 20
    public static let maximumGoModSize: UInt64 = 16 << 20
    /// A central directory larger than this is not a module's (it would list millions of files).
    static let maximumDirectorySize: UInt64 = 64 << 20

    public let entries: [Entry]
    private let descriptor: FileDescriptorBox
    /// Where file data may lie: before the central directory.
    private let dataEnd: UInt64

    /// Reads the central directory of the zip at `path`.
    public init(path: String) throws(Failure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure("cannot open the zip: \(String(cString: strerror(errno)))") }
        try self.init(taking: fd)
    }

    /// Reads the central directory of the zip open as `fd`; the zip owns the descriptor from now on.
    public init(taking fd: Int32) throws(Failure) {
        let box = FileDescriptorBox(fd)
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size >= 0 else { throw Failure("cannot read the zip's size") }
        let length = UInt64(info.st_size)
        let directory = try Self.findDirectory(box, length: length)
        entries = try Self.readEntries(box, directory)
        descriptor = box
        dataEnd = directory.offset
    }

    // MARK: The central directory

    private struct Directory {
        var offset: UInt64
        var size: UInt64
        var count: UInt64
    }

    private static func findDirectory(_ file: FileDescriptorBox, length: UInt64) throws(Failure) -> Directory {
        guard length >= 22 else { throw Failure("not a zip file: too short") }
        // The end record is the last 22 bytes, or earlier by a comment of at most 65,535 bytes.
        let searched = min(length, 22 + 65_535)
        let tail = try file.read(at: length - searched, count: Int(searched))
        var position = tail.count - 22
        var found: Int?
        while position >= 0 {
            if tail.uint32(at: position) == 0x0605_4b50 {
                let commentLength = Int(tail.uint16(at: position + 20))
                if position + 22 + commentLength == tail.count {
                    found = position
                    break
                }
            }
            position -= 1
        }
        guard let end = found else { throw Failure("not a zip file: no end of central directory") }
        let endOffset = length - searched + UInt64(end)
        guard tail.uint16(at: end + 4) == 0, tail.uint16(at: end + 6) == 0 else {
            throw Failure("zip spans several disks")
        }
        var directory = Directory(
            offset: UInt64(tail.uint32(at: end + 16)), size: UInt64(tail.uint32(at: end + 12)),
            count: UInt64(tail.uint16(at: end + 10)))
        var directoryEnd = endOffset
        if directory.count == 0xFFFF || directory.size == 0xFFFF_FFFF || directory.offset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the end record points at the ZIP64 end record.
            guard endOffset >= 20 else { throw Failure("zip64 end locator missing") }
            let locator = try file.read(at: endOffset - 20, count: 20)
            guard locator.uint32(at: 0) == 0x0706_4b50 else { throw Failure("zip64 end locator missing") }
            let recordOffset = locator.uint64(at: 8)
            guard let recordEnd = recordOffset.adding(56), recordEnd <= endOffset - 20 else {
                throw Failure("zip64 end record out of bounds")
            }
            let record = try file.read(at: recordOffset, count: 56)
            guard record.uint32(at: 0) == 0x0606_4b50 else { throw Failure("zip64 end record missing") }
            directory = Directory(offset: record.uint64(at: 48), size: record.uint64(at: 40), count: record.uint64(at: 32))
            directoryEnd = recordOffset
        }
        guard let end = directory.offset.adding(directory.size), end <= directoryEnd else {
            throw Failure("central directory out of bounds")
        }
        guard directory.size <= maximumDirectorySize else { throw Failure("central directory larger than a module's") }
        // Each entry takes at least 46 bytes: a count beyond that is a lie.
        guard directory.count <= directory.size / 46 else { throw Failure("central directory lists more entries than it holds") }
        return directory
    }

    private static func readEntries(_ file: FileDescriptorBox, _ directory: Directory) throws(Failure) -> [Entry] {
        let bytes = try file.read(at: directory.offset, count: Int(directory.size))
        var entries: [Entry] = []
        entries.reserveCapacity(Int(directory.count))
        var position = 0
        for _ in 0..<directory.count {
            guard position + 46 <= bytes.count, bytes.uint32(at: position) == 0x0201_4b50 else {
                throw Failure("central directory entry \(entries.count + 1) is damaged")
            }
            let flags = bytes.uint16(at: position + 8)
            let method = bytes.uint16(at: position + 10)
            let nameLength = Int(bytes.uint16(at: position + 28))
            let extraLength = Int(bytes.uint16(at: position + 30))
            let commentLength = Int(bytes.uint16(at: position + 32))
            let next = position + 46 + nameLength + extraLength + commentLength
            guard next <= bytes.count else { throw Failure("central directory entry \(entries.count + 1) is cut short") }
            guard let name = String(validating: bytes[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self) else {
                throw Failure("zip holds a file name that is not UTF-8")
            }
            guard flags & 1 == 0 else { throw Failure("zip holds an encrypted file: \(name)") }
            guard method == 0 || method == 8 else { throw Failure("zip holds \(name) compressed with method \(method)") }
            var compressed = UInt64(bytes.uint32(at: position + 20))
            var uncompressed = UInt64(bytes.uint32(at: position + 24))
            var offset = UInt64(bytes.uint32(at: position + 42))
            try readZip64Extra(
                bytes[(position + 46 + nameLength)..<(position + 46 + nameLength + extraLength)],
                uncompressed: &uncompressed, compressed: &compressed, offset: &offset, name: name)
            // The entry's data lies before the directory: header (30 bytes at
            // least, then a name and extra field), then the compressed bytes.
            guard let dataStart = offset.adding(30), let dataEnd = dataStart.adding(compressed), dataEnd <= directory.offset else {
                throw Failure("zip entry \(name) points outside the file")
            }
            guard uncompressed <= maximumSize, compressed <= maximumSize else {
                throw Failure("zip entry \(name) is larger than a module zip may be")
            }
            if method == 0 && compressed != uncompressed { throw Failure("stored zip entry \(name) has two sizes") }
            entries.append(
                Entry(
                    name: name, method: method, compressedSize: compressed, uncompressedSize: uncompressed,
                    crc32: bytes.uint32(at: position + 16), localHeaderOffset: offset))
            position = next
        }
        return entries
    }

    /// The ZIP64 extra field (tag 1) holds, in this order, whichever of the
    /// uncompressed size, compressed size and header offset were 0xFFFFFFFF.
    private static func readZip64Extra(
        _ extra: ArraySlice<UInt8>, uncompressed: inout UInt64, compressed: inout UInt64, offset: inout UInt64, name: String
    ) throws(Failure) {
        guard uncompressed == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF || offset == 0xFFFF_FFFF else { return }
        var position = extra.startIndex
        while position + 4 <= extra.endIndex {
            let tag = extra.uint16(at: position)
            let size = Int(extra.uint16(at: position + 2))
            let body = position + 4
            guard body + size <= extra.endIndex else { break }
            if tag == 1 {
                var field = body
                if uncompressed == 0xFFFF_FFFF {
                    guard field + 8 <= body + size else { throw Failure("zip64 field of \(name) is cut short") }
                    uncompressed = extra.uint64(at: field)
                    field += 8
                }
                if compressed == 0xFFFF_FFFF {
                    guard field + 8 <= body + size else { throw Failure("zip64 field of \(name) is cut short") }
                    compressed = extra.uint64(at: field)
                    field += 8
                }
                if offset == 0xFFFF_FFFF {
                    guard field + 8 <= body + size else { throw Failure("zip64 field of \(name) is cut short") }
                    offset = extra.uint64(at: field)
                }
                return
            }
            position = body + size
        }
        throw Failure("zip entry \(name) needs a zip64 field and has none")
    }

    // MARK: Content

    /// Inflates `entry`, handing its bytes to `consume` as they come; checks
    /// that they are exactly as many as the directory says, with its CRC-32.
    public func read(_ entry: Entry, _ consume: (UnsafeRawBufferPointer) -> Void) throws(Failure) {
        let header = try descriptor.read(at: entry.localHeaderOffset, count: 30)
        guard header.uint32(at: 0) == 0x0403_4b50 else { throw Failure("zip entry \(entry.name) has no local header") }
        let skip = UInt64(header.uint16(at: 26)) + UInt64(header.uint16(at: 28))
        guard let start = entry.localHeaderOffset.adding(30 + skip), let end = start.adding(entry.compressedSize), end <= dataEnd
        else { throw Failure("zip entry \(entry.name) points outside the file") }
        var checked = ContentTally(expected: entry.uncompressedSize, name: entry.name)
        if entry.method == 0 {
            try descriptor.forEachChunk(from: start, count: entry.compressedSize) { chunk throws(Failure) in
                try checked.add(chunk)
                consume(chunk)
            }
        } else {
            let inflater = try Inflater(name: entry.name)
            try descriptor.forEachChunk(from: start, count: entry.compressedSize) { chunk throws(Failure) in
                try inflater.inflate(chunk) { output throws(Failure) in
                    try checked.add(output)
                    consume(output)
                }
            }
            guard inflater.finished else { throw Failure("zip entry \(entry.name) ends before its deflated data does") }
        }
        try checked.finish(crc32: entry.crc32)
    }

    /// The rules golang.org/x/mod/zip sets for a module's zip: every file
    /// under `module@version/` at a clean path, none twice (ignoring case),
    /// go.mod and the whole within the go command's limits.
    public func checkModuleRules(prefix: String) throws(Failure) {
        var seen: Set<String> = []
        var total: UInt64 = 0
        for entry in entries {
            guard entry.name.hasPrefix(prefix) else { throw Failure("zip holds \(entry.name), outside \(prefix)") }
            let path = entry.name.dropFirst(prefix.count)
            let elements = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.isEmpty, !elements.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
                !path.contains("\\"), path.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
            else { throw Failure("zip holds a file at an invalid path: \(entry.name)") }
            guard seen.insert(path.lowercased()).inserted else { throw Failure("zip holds \(entry.name) twice") }
            if path == "go.mod" && entry.uncompressedSize > Self.maximumGoModSize {
                throw Failure("go.mod in the zip is larger than 16 MiB")
            }
            guard let sum = total.adding(entry.uncompressedSize), sum <= Self.maximumSize else {
                throw Failure("zip unpacks to more than 500 MiB")
            }
            total = sum
        }
    }
}

/// Counts and checksums an entry's content as it is inflated.
private struct ContentTally {
    let expected: UInt64
    let name: String
    var count: UInt64 = 0
    var crc: UInt = crc32(0, nil, 0)

    init(expected: UInt64, name: String) {
        self.expected = expected
        self.name = name
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer) throws(ModuleZip.Failure) {
        guard let sum = count.adding(UInt64(bytes.count)), sum <= expected else {
            throw ModuleZip.Failure("zip entry \(name) holds more than the \(expected) bytes it claims")
        }
        count = sum
        if let base = bytes.baseAddress {
            crc = crc32(crc, base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count))
        }
    }

    func finish(crc32 expectedCRC: UInt32) throws(ModuleZip.Failure) {
        guard count == expected else { throw ModuleZip.Failure("zip entry \(name) holds \(count) of its \(expected) bytes") }
        guard UInt32(truncatingIfNeeded: crc) == expectedCRC else { throw ModuleZip.Failure("zip entry \(name) fails its CRC-32") }
    }
}

/// zlib's raw inflate, fed a chunk at a time.
private final class Inflater {
    private var stream = z_stream()
    private let name: String
    private(set) var finished = false
    private let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 1)

    init(name: String) throws(ModuleZip.Failure) {
        self.name = name
        guard goedge_inflate_init_raw(&stream) == Z_OK else { throw ModuleZip.Failure("cannot start inflating \(name)") }
    }

    deinit {
        inflateEnd(&stream)
        output.deallocate()
    }

    func inflate(
        _ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws(ModuleZip.Failure) -> Void
    ) throws(ModuleZip.Failure) {
        guard !input.isEmpty else { return }
        guard !finished else { throw ModuleZip.Failure("zip entry \(name) has bytes after its deflated data") }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while stream.avail_in > 0 && !finished {
            stream.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(output.count)
            let status = CInflate.inflate(&stream, Z_NO_FLUSH)
            let produced = output.count - Int(stream.avail_out)
            switch status {
            case Z_OK, Z_BUF_ERROR: break
            case Z_STREAM_END: finished = true
            default: throw ModuleZip.Failure("zip entry \(name) has damaged deflated data")
            }
            if produced > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[0..<produced])) }
            if status == Z_BUF_ERROR && produced == 0 { break }
        }
        if finished && stream.avail_in > 0 { throw ModuleZip.Failure("zip entry \(name) has bytes after its deflated data") }
    }
}

/// Owns a descriptor and reads from it at offsets.
final class FileDescriptorBox: Sendable {
    let descriptor: Int32

    init(_ descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    func read(at offset: UInt64, count: Int) throws(ModuleZip.Failure) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw ModuleZip.Failure("the zip is shorter than its directory says") }
            done += read
        }
        return bytes
    }

    func forEachChunk(
        from offset: UInt64, count: UInt64, _ body: (UnsafeRawBufferPointer) throws(ModuleZip.Failure) -> Void
    ) throws(ModuleZip.Failure) {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 1)
        defer { chunk.deallocate() }
        var done: UInt64 = 0
        while done < count {
            let wanted = Int(min(UInt64(chunk.count), count - done))
            let read = pread(descriptor, chunk.baseAddress!, wanted, off_t(offset + done))
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw ModuleZip.Failure("the zip is shorter than its directory says") }
            try body(UnsafeRawBufferPointer(rebasing: chunk[0..<read]))
            done += UInt64(read)
        }
    }
}

extension UInt64 {
    /// The sum, or nil when it overflows.
    func adding(_ other: UInt64) -> UInt64? {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? nil : sum
    }
}

extension Collection<UInt8> where Index == Int {
    func uint16(at position: Int) -> UInt16 {
        UInt16(self[position]) | UInt16(self[position + 1]) << 8
    }

    func uint32(at position: Int) -> UInt32 {
        UInt32(uint16(at: position)) | UInt32(uint16(at: position + 2)) << 16
    }

    func uint64(at position: Int) -> UInt64 {
        UInt64(uint32(at: position)) | UInt64(uint32(at: position + 4)) << 32
    }
}
