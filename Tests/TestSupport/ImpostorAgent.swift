import Foundation

/// Something that answers at `--agent` as an agent would, without being
/// one: its status is whatever the test gives it, every other request is
/// refused, and every `Authorization` value it is sent is recorded.
/// (python3's http.server: a few lines the test reads whole.)
public final class ImpostorAgent: @unchecked Sendable {
    private let process: ChildProcess
    private let folder = TemporaryDirectory()
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)" }

    public init(status: [UInt8]) throws {
        try Data(status).write(to: URL(fileURLWithPath: folder.path + "/status.json"))
        let script = """
            import http.server, sys
            status = open(sys.argv[1] + "/status.json", "rb").read()
            heard = open(sys.argv[1] + "/heard", "a")
            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def answer(self):
                    length = int(self.headers.get("Content-Length") or 0)
                    if length: self.rfile.read(length)
                    heard.write((self.headers.get("Authorization") or "-") + "\\n"); heard.flush()
                    body, code = (status, 200) if self.path == "/-/api/status" else (b"goedge: no\\n", 403)
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json" if code == 200 else "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                do_GET = do_POST = answer
                def log_message(self, *arguments): pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            print("port", server.server_address[1], flush=True)
            server.serve_forever()
            """
        process = try ChildProcess("/usr/bin/python3", ["-c", script, folder.path])
        let line = try process.waitForLine(containing: "port ")
        guard let port = Int(line.split(separator: " ").last ?? "") else { throw TestFailure("no port in \(line)") }
        self.port = port
    }

    /// Every `Authorization` value sent, in order (requests without one are not listed).
    public func authorizations() -> [String] {
        let text = (try? String(contentsOfFile: folder.path + "/heard", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).filter { $0 != "-" }
    }

    public func heard(_ secret: String) -> Bool { authorizations().contains { $0.contains(secret) } }

    deinit { process.kill() }
}
