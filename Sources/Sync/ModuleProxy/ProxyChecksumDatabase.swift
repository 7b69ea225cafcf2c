import ChecksumDatabase
import GoModules
import Upstream

/// The checksum database as the agent reads it: through its own proxy, so
/// that lookups and tiles come from the upstream list (`<upstream>/sumdb/
/// <name>/…`, as the go command reads it through a proxy) and are cached
/// like any immutable file, verified by ``ChecksumDatabaseClient``.
struct ProxyChecksumDatabase: ChecksumDatabaseFetching {
    let proxy: ModuleProxy
    let name: String

    /// Checksum database answers goedge reads itself (records, tiles, tree heads) are small.
    static let answerLimit = 1 << 20

    func fetch(endpoint: String) async -> ChecksumDatabaseAnswer {
        guard let request = SumdbRequest(path: Substring(name + "/" + endpoint)) else {
            return .failed("not a checksum database path: \(endpoint)")
        }
        let answer = await proxy.answer(ProxyRequest(.sumdb(request)), priority: .client)
        switch answer.status {
        case 200:
            guard let bytes = await answer.collect(limit: Self.answerLimit) else { return .failed("the answer was cut or too large") }
            return .found(bytes)
        case 404, 410:
            return .notFound
        default:
            return .failed(answer.failure.map { "\($0)" } ?? "answered \(answer.status)")
        }
    }
}

/// A checksum database at its own URL (`checksum-database = "KEY URL"`),
/// asked directly: not cached (what is verified from it is small, and
/// goedge asks it only for the versions it dates or checks).
public struct DirectChecksumDatabase: ChecksumDatabaseFetching {
    let chain: UpstreamChain

    public init(chain: UpstreamChain) {
        self.chain = chain
    }

    public func fetch(endpoint: String) async -> ChecksumDatabaseAnswer {
        let answer = await chain.fetch(SourceRequest(path: endpoint))
        switch answer.outcome {
        case .found(_, let body):
            guard let bytes = await body.collect(limit: ProxyChecksumDatabase.answerLimit) else { return .failed("the answer was cut or too large") }
            return .found(bytes)
        case .answered(let head, _):
            return head.status == 404 || head.status == 410 ? .notFound : .failed("answered \(head.status)")
        case .failed(let error): return .failed(error.message)
        case .exhausted(let reason): return .failed(reason)
        }
    }
}

extension ProxyAnswer {
    /// The whole body in memory, up to `limit` bytes: nil when it is larger,
    /// or a relayed body fails midway.
    func collect(limit: Int) async -> [UInt8]? {
        switch body {
        case .bytes(let bytes): return bytes.count <= limit ? bytes : nil
        case .file(let hit): return hit.size <= Int64(limit) ? try? hit.readAll() : nil
        case .relay(let reader):
            var bytes: [UInt8] = []
            do {
                while let chunk = try await reader.next() {
                    bytes += chunk
                    if bytes.count > limit { return nil }
                }
            } catch {
                return nil
            }
            return bytes
        }
    }
}
