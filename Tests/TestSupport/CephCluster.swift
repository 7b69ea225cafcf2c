import Foundation
import Synchronization

/// A real S3 store for the shared-store tests: a one-machine Ceph cluster
/// (a monitor, an in-memory storage daemon, the RADOS Gateway) started by
/// `scripts/ceph-cluster` once per test process, on 127.0.0.1, and stopped
/// by PID when the process exits. The test side talks S3 with the curl
/// command (`--aws-sigv4`), not with goedge's code.
public final class CephCluster: Sendable {
    public let endpoint: String
    public let accessKey: String
    public let secretKey: String
    let folder: String

    /// Whether Debian's radosgw, ceph-mon and ceph-osd are installed.
    public static var isAvailable: Bool {
        ["radosgw", "ceph-mon", "ceph-osd", "curl"].allSatisfy { which($0) != nil }
    }

    private static let started = Mutex<Result<CephCluster, TestFailure>?>(nil)

    /// The cluster of this test process, started on first use (about 15 s).
    public static func shared() throws -> CephCluster {
        try started.withLock { started in
            if let started { return try started.get() }
            let result = Result { () throws(TestFailure) -> CephCluster in try CephCluster() }
            started = result
            return try result.get()
        }
    }

    private init() throws(TestFailure) {
        folder = Paths.packageRoot + "/.build/ceph-\(getpid())"
        let run: CommandResult
        do {
            run = try ChildProcess.run(Paths.packageRoot + "/scripts/ceph-cluster", ["start", folder], timeout: .seconds(240))
        } catch {
            throw TestFailure("scripts/ceph-cluster: \(error)")
        }
        guard run.status == 0 else { throw TestFailure("scripts/ceph-cluster start failed: \(run)") }
        var values: [String: String] = [:]
        for line in run.output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let endpoint = values["endpoint"], let access = values["access_key"], let secret = values["secret_key"] else {
            throw TestFailure("scripts/ceph-cluster said: \(run.output)")
        }
        self.endpoint = endpoint
        accessKey = access
        secretKey = secret
        // Stopped by PID when the test process ends.
        CephCluster.folderToStop.withLock { $0 = folder }
        atexit {
            guard let folder = CephCluster.folderToStop.withLock({ $0 }) else { return }
            for daemon in ["rgw", "osd", "mon"] {
                if let text = try? String(contentsOfFile: folder + "/\(daemon).pid", encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    kill(pid, SIGKILL)
                }
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    private static let folderToStop = Mutex<String?>(nil)

    /// A credentials file for goedge (`shared-store-credentials-file`), in `folder`.
    public func credentialsFile(in folder: TemporaryDirectory, secret: String? = nil) throws -> String {
        try folder.write("s3-credentials", "AWS_ACCESS_KEY_ID=\(accessKey)\nAWS_SECRET_ACCESS_KEY=\(secret ?? secretKey)\n")
        return folder.path + "/s3-credentials"
    }

    /// `curl` against the gateway, signed.
    @discardableResult
    public func curl(_ arguments: [String]) throws -> CommandResult {
        try ChildProcess.run(
            which("curl")!,
            ["-s", "--aws-sigv4", "aws:amz:us-east-1:s3", "-u", "\(accessKey):\(secretKey)", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
                + arguments, timeout: .seconds(30))
    }

    /// A new, empty bucket of its own.
    public func makeBucket() throws -> String {
        let name = "goedge-\(UUID().uuidString.lowercased().prefix(12))"
        let made = try curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", endpoint + "/" + name])
        guard made.output == "200" else { throw TestFailure("creating bucket \(name): \(made)") }
        return name
    }

    /// The keys in `bucket`.
    public func keys(in bucket: String) throws -> [String] {
        let listed = try curl([endpoint + "/" + bucket + "?list-type=2"])
        var keys: [String] = []
        var rest = Substring(listed.output)
        while let open = rest.range(of: "<Key>"), let close = rest[open.upperBound...].range(of: "</Key>") {
            keys.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return keys
    }

    /// Puts `bytes` at `key` of `bucket` by hand (a writer goedge does not know).
    public func put(_ bytes: [UInt8], bucket: String, key: String) throws {
        let file = NSTemporaryDirectory() + "goedge-put-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let encoded = key.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? "" }
            .joined(separator: "/")
        let put = try curl(["-o", "/dev/null", "-w", "%{http_code}", "-T", file, endpoint + "/" + bucket + "/" + encoded])
        guard put.output == "200" else { throw TestFailure("putting \(key): \(put)") }
    }

    /// The gateway's PID.
    public var gatewayPID: Int32 {
        Int32((try? String(contentsOfFile: folder + "/rgw.pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
    }

    /// Kills the gateway (the cluster behind it stays).
    public func killGateway() {
        kill(gatewayPID, SIGKILL)
        var status: Int32 = 0
        waitpid(gatewayPID, &status, 0)
    }

    /// Starts the gateway again, on the same port.
    public func restartGateway() throws {
        let run = try ChildProcess.run(Paths.packageRoot + "/scripts/ceph-cluster", ["gateway", folder], timeout: .seconds(120))
        guard run.status == 0 else { throw TestFailure("restarting the gateway: \(run)") }
    }
}
