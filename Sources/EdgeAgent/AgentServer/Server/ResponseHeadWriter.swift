import NIOCore
import NIOHTTP1
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin

/// The status line and headers of a response, written as bytes.
///
/// The head is copied into the buffer in one pass over its own memory: every
/// response has one, and a write per piece (a dozen of them) cost a cache hit
/// more than looking the file up.
package enum ResponseHeadWriter {
    /// `contentLength` is the body's (the caller has it at hand; asking the
    /// answer again would copy its body); nil for a stream.
    package static func write(
        version: HTTPVersion, answer: AgentReply, contentLength: Int64?, keepAlive: Bool, chunked: Bool = false,
        into buffer: inout ByteBuffer
    ) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity(for: answer)) { memory in
            var head = HeadText(memory)
            head.append(version.minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
            head.append(decimal: Int64(answer.status))
            head.append(" ")
            head.append(value: answer.reason)
            head.append("\r\nContent-Type: ")
            head.append(value: answer.contentType)
            if let length = contentLength {
                head.append("\r\nContent-Length: ")
                head.append(decimal: length)
            } else if chunked {
                head.append("\r\nTransfer-Encoding: chunked")
            }
            head.append("\r\nX-Cache: ")
            head.append(value: answer.outcome.rawValue)
            if let warning = answer.warning {
                head.append("\r\nWarning: ")
                head.append(value: warning)
            }
            for (name, value) in answer.extraHeaders {
                head.append("\r\n")
                head.append(value: name)
                head.append(": ")
                head.append(value: value)
            }
            if !keepAlive {
                head.append("\r\nConnection: close")
            } else if version.minor == 0 {
                head.append("\r\nConnection: keep-alive")
            }
            head.append("\r\n\r\n")
            return head.count
        }
    }

    /// Bytes a head may take at most: allocate this much (and the body's
    /// length) for the response, so that writing it never grows the buffer.
    static func capacity(for answer: AgentReply) -> Int {
        // Fixed text and numbers take well under 256 bytes; header values at most their own length.
        var capacity = 256 + answer.reason.utf8.count + answer.contentType.utf8.count
        if let warning = answer.warning { capacity += warning.utf8.count }
        for (name, value) in answer.extraHeaders { capacity += name.utf8.count + value.utf8.count + 4 }
        return capacity
    }
}

/// Appends text to memory the caller sized for it.
private struct HeadText {
    private let memory: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ memory: UnsafeMutableRawBufferPointer) {
        self.memory = memory
    }

    mutating func append(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        precondition(count + length <= memory.count, "response head larger than its estimate")
        (memory.baseAddress! + count).copyMemory(from: text.utf8Start, byteCount: length)
        count += length
    }

    /// Header text from upstreams goes in without control characters, so
    /// that nothing can end a header line early.
    mutating func append(value: String) {
        if value.utf8.withContiguousStorageIfAvailable({ append(checked: $0) }) == nil {
            Array(value.utf8).withUnsafeBufferPointer { append(checked: $0) }
        }
    }

    private mutating func append(checked bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        precondition(count + bytes.count <= memory.count, "response head larger than its estimate")
        // Without branches, so that the check runs over many bytes at a time.
        var controls: UInt8 = 0
        for byte in bytes { controls |= (byte < 0x20 ? 1 : 0) | (byte == 0x7F ? 1 : 0) }
        if controls == 0 {
            (memory.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
            count += bytes.count
            return
        }
        for byte in bytes where byte >= 0x20 && byte != 0x7F {
            memory[count] = byte
            count += 1
        }
    }

    /// A non-negative number (a negative one, which no status or length can
    /// be, is written as 0 rather than trapping).
    mutating func append(decimal number: Int64) {
        precondition(count + 19 <= memory.count, "response head larger than its estimate")
        let number = max(0, number)
        var digits = 1
        var rest = number / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var value = number
        for position in stride(from: count + digits - 1, through: count, by: -1) {
            memory[position] = UInt8(truncatingIfNeeded: value % 10) + UInt8(ascii: "0")
            value /= 10
        }
        count += digits
    }
}
