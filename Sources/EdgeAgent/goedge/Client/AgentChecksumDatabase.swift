import ChecksumDatabase
import GoModules
import Upstream

/// A checksum database read through the agent's module protocol
/// (`/sumdb/<name>/…`), as the go command reads it through a proxy: what a
/// prefetch verifies this way is then cached in the agent for the go command.
struct AgentChecksumDatabase: ChecksumDatabaseFetching {
    let agent: AgentClient
    let name: String

    /// Records, tiles and tree heads are small.
    static let answerLimit: Int64 = 1 << 20

    func fetch(endpoint: String) async -> ChecksumDatabaseAnswer {
        let path = "sumdb/\(name)/\(endpoint)"
        let answer: (ResponseHead, any ResponseBodySink)
        do {
            answer = try await agent.get(path) { _ in DownloadSink(keep: .memory, limit: Self.answerLimit) }
        } catch {
            return .failed("\(error)")
        }
        switch answer.0.status {
        case 200:
            guard let download = answer.1 as? DownloadSink else { return .failed("no body") }
            return .found(download.bytes)
        case 404, 410:
            return .notFound
        default:
            return .failed("the agent answered \(answer.0.status) \(answer.0.reason)")
        }
    }
}
