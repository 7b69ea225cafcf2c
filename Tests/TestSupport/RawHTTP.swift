import Foundation

/// An HTTP/1.1 response as read off the socket.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A deliberately small HTTP/1.1 client over a plain socket, so tests can
/// send exactly the bytes they mean (bad escapes, NUL, odd methods).
public enum RawHTTP {
    /// An open connection to 127.0.0.1:`port` (the caller closes it), from
    /// `source` when given (another loopback address is another client).
    public static func connect(port: Int, from source: String? = nil, timeout: Duration = .seconds(30)) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(fd)
                throw TestFailure("bind to \(source): \(String(cString: strerror(errno)))")
            }
        }
        var seconds = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestFailure("connect to port \(port): \(reason)")
        }
        return fd
    }

    /// Sends `request` verbatim to 127.0.0.1:`port` and reads the response
    /// until the server closes the connection.
    public static func exchange(
        port: Int, request: [UInt8], isHead: Bool = false, from source: String? = nil, timeout: Duration = .seconds(30)
    ) throws -> HTTPResponse {
        let fd = try connect(port: port, from: source, timeout: timeout)
        defer { close(fd) }
        var sent = 0
        while sent < request.count {
            let count = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw TestFailure("send: \(errno)") }
            sent += count
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TestFailure("recv: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return try parse(received, isHead: isHead)
    }

    /// GET (or another method) of `path` with `Connection: close`.
    public static func get(
        port: Int, _ path: String, method: String = "GET", headers: [String: String] = [:], from source: String? = nil
    ) throws -> HTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        return try exchange(port: port, request: Array(request.utf8), isHead: method == "HEAD", from: source)
    }

    /// POST of `body` to `path` with `Connection: close`.
    public static func post(
        port: Int, _ path: String, body: [UInt8], contentType: String = "application/json", headers: [String: String] = [:]
    ) throws -> HTTPResponse {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n"
        return try exchange(port: port, request: Array(head.utf8) + body)
    }

    /// GET of an `http://127.0.0.1:PORT/path` URL.
    public static func get(url: String) throws -> HTTPResponse {
        guard let parsed = URL(string: url), let port = parsed.port else { throw TestFailure("bad URL \(url)") }
        let path = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false).dropFirst(3).first.map { "/" + $0 } ?? "/"
        return try get(port: port, path)
    }

    static func parse(_ bytes: [UInt8], isHead: Bool) throws -> HTTPResponse {
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }) else {
            throw TestFailure("no complete response head in \(bytes.count) bytes: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = head[0].split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestFailure("bad status line \(head[0])") }
        var headers: [(String, String)] = []
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(bytes[(end + 4)...])
        if isHead { body = [] }
        let chunked = headers.contains { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased() == "chunked" }
        if chunked && !isHead { body = try dechunked(body) }
        let response = HTTPResponse(status: status, reason: statusLine.count > 2 ? String(statusLine[2]) : "", headers: headers, body: body)
        if !isHead, let length = response.header("Content-Length").flatMap(Int.init), length != body.count {
            throw TestFailure("body has \(body.count) bytes, Content-Length says \(length)")
        }
        return response
    }

    /// A chunked body's content; fails unless it ends with the last chunk.
    static func dechunked(_ bytes: [UInt8]) throws -> [UInt8] {
        var content: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16)
            else { throw TestFailure("malformed chunked body at byte \(index)") }
            let start = lineEnd + 2
            if size == 0 { return content }
            guard start + size + 2 <= bytes.count else { throw TestFailure("chunked body cut short") }
            content += bytes[start..<(start + size)]
            index = start + size + 2
        }
    }
}
