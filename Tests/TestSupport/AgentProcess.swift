import Foundation

/// A `goedge serve` process under test, listening on a free loopback port.
public final class AgentProcess: @unchecked Sendable {
    public let process: ChildProcess
    public let port: Int
    public let cacheDirectory: String
    /// The cache folder this process was given of its own (none passed), removed after it.
    private let ownedCache: TemporaryDirectory?
    /// `https` when it was given a certificate (`--tls-certificate`).
    public let scheme: String
    public var url: String { "\(scheme)://127.0.0.1:\(port)" }

    /// Starts `goedge serve` and waits until it listens. Unless `configFile`
    /// says otherwise it reads no configuration file (`--config /dev/null`),
    /// so that a host's /etc/goedge cannot change what a test sees. Without
    /// `cacheDirectory` it gets a fresh one, removed once it has exited.
    public init(
        upstream: String, cacheDirectory: String? = nil, arguments: [String] = [], environment: [String: String] = [:],
        configFile: String = "/dev/null", wrapper: [String] = []
    ) throws {
        ownedCache = cacheDirectory == nil ? TemporaryDirectory() : nil
        let cacheDirectory = cacheDirectory ?? ownedCache!.path
        self.cacheDirectory = cacheDirectory
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "JOURNAL_STREAM")
        env.merge(environment) { $1 }
        let command =
            ["serve", "--config", configFile, "--listen", "127.0.0.1:0", "--upstream", upstream, "--cache-dir", cacheDirectory]
            + arguments
        if wrapper.isEmpty {
            process = try ChildProcess(Paths.goedge, command, environment: env)
        } else {
            process = try ChildProcess(wrapper[0], Array(wrapper.dropFirst()) + [Paths.goedge] + command, environment: env)
        }
        let line = try process.waitForLine(containing: "listening", inErrorOutput: true)
        // Text or JSON lines (log-format = json).
        guard let range = line.range(of: "urls=") ?? line.range(of: "\"urls\":\"") else { throw TestFailure("no URL in \(line)") }
        let url = line[range.upperBound...]
        scheme = url.hasPrefix("https://") ? "https" : "http"
        guard let host = url.range(of: "://127.0.0.1:") else { throw TestFailure("no loopback URL in \(line)") }
        port = Int(url[host.upperBound...].prefix { $0.isNumber })!
    }

    public var log: String { process.errorOutput }

    /// `Authorization` for the control API's changes over TCP: the token the
    /// agent wrote to its cache folder.
    public var controlAuthorization: [String: String] {
        let token = (try? String(contentsOfFile: cacheDirectory + "/control-token", encoding: .utf8)) ?? ""
        return ["Authorization": "Bearer " + token.trimmingCharacters(in: .whitespacesAndNewlines)]
    }

    // The process goes before its folder, so that nothing writes there once it is removed.
    deinit { process.kill() }

    public func get(_ path: String, method: String = "GET", headers: [String: String] = [:]) throws -> HTTPResponse {
        try RawHTTP.get(port: port, path, method: method, headers: headers)
    }

    /// SIGTERM, then the exit status.
    @discardableResult
    public func terminate(timeout: Duration = .seconds(20)) -> Int32? {
        process.signal(SIGTERM)
        return process.waitForExit(timeout: timeout)
    }
}
