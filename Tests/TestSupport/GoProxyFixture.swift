import Foundation
import Synchronization

/// The Go module proxy the tests run goedge against (Tests/Fixtures/goproxy-fixture):
/// real module zips and a signed checksum database over loopback, with
/// request counts and fault injection.
public final class GoProxyFixture: @unchecked Sendable {
    public let process: ChildProcess
    /// `http://127.0.0.1:PORT`
    public let url: String
    public let port: Int
    /// The checksum database's name and key, as GOSUMDB takes it.
    public let sumdbKey: String
    /// A second database, named with a path (`localhost.test/sumdb+…`).
    public let pathSumdbKey: String

    /// Starts the fixture; `port` 0 picks a free one.
    public init(catalog: String = "core", delay: Duration? = nil, port: Int = 0) throws {
        var arguments = ["-listen", "127.0.0.1:\(port)", "-catalog", catalog]
        if let delay { arguments += ["-delay", "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)ms"] }
        process = try ChildProcess(try Self.binary(), arguments)
        let listening = try process.waitForLine(containing: "listening ")
        url = String(listening.split(separator: " ")[1])
        self.port = Int(url.split(separator: ":").last!)!
        sumdbKey = String(try process.waitForLine(containing: "sumdb ").split(separator: " ")[1])
        pathSumdbKey = String(try process.waitForLine(containing: "sumdb-path ").split(separator: " ")[1])
    }

    /// Requests the fixture received, by path (without a leading slash).
    public func requestCounts() throws -> [String: Int] {
        let response = try RawHTTP.get(port: port, "/_fixture/stats")
        return try JSONDecoder().decode([String: Int].self, from: Data(response.body))
    }

    public func requests(for path: String) throws -> Int {
        try requestCounts()[path.hasPrefix("/") ? String(path.dropFirst()) : path] ?? 0
    }

    /// Proxy requests received, not counting bookkeeping entries (304s,
    /// connections, credentials and proxy use seen).
    public func totalRequests() throws -> Int {
        try requestCounts().filter { key, _ in
            key != "304" && !key.hasPrefix("_") && !key.hasPrefix("auth:") && !key.hasPrefix("proxy:")
        }.values.reduce(0, +)
    }

    /// Publishes `module@version` now, its `.info` saying `time` (RFC 3339;
    /// a backdated release says an old date), recorded in the checksum
    /// databases at once.
    public func publish(_ module: String, _ version: String, time: String) throws {
        let answer = try RawHTTP.get(port: port, "/_fixture/publish?module=\(module)&version=\(version)&time=\(time)")
        guard answer.status == 200 else { throw TestFailure("publish: \(answer.status) \(answer.text)") }
    }

    /// The next `count` proxy requests answer 503 (`how` "503"), or the next
    /// `count` zip downloads are cut midway (`how` "cut").
    public func flaky(_ how: String, count: Int) throws {
        _ = try RawHTTP.get(port: port, "/_fixture/flaky?how=\(how)&count=\(count)")
    }

    public func resetCounts() throws {
        _ = try RawHTTP.get(port: port, "/_fixture/reset")
    }

    /// Makes every proxy request fail with `status` (0 restores normal service).
    public func failEverything(with status: Int) throws {
        _ = try RawHTTP.get(port: port, "/_fixture/fail?status=\(status)")
    }

    public func stop() {
        process.kill()
    }

    /// Builds the fixture once per test run.
    public static func binary() throws -> String {
        try FixtureProgram.build("goproxy-fixture")
    }
}
