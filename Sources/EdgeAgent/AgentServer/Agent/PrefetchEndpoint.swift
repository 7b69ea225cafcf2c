import Foundation
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin

/// `POST /-/prefetch`: takes a workspace's go.mod, go.work and go.sum files
/// (JSON ``WorkspaceFiles``), starts prefetching what they need, and streams
/// the progress back as JSON lines (``PrefetchEvent``), the last one `done`
/// with the summary.
///
/// The prefetch goes on if the client goes away: what it fetched is cached
/// either way.
struct PrefetchEndpoint: Sendable {
    let prefetcher: Prefetcher

    static let contentType = "application/x-ndjson"

    func start(body: [UInt8]) -> AgentReply {
        let files: WorkspaceFiles
        do {
            files = try JSONDecoder().decode(WorkspaceFiles.self, from: Data(body))
        } catch {
            return .text(400, "expected a JSON object {\"files\": [{\"path\": …, \"content\": …}]}: \(error)")
        }
        guard !files.files.isEmpty else { return .text(400, "no files sent") }

        let (events, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let prefetcher = self.prefetcher
        // Goes on if the client goes away: what it fetched is cached either way.
        prefetcher.proxy.background.submit {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            _ = await prefetcher.run(files) { event in
                guard let line = try? encoder.encode(event) else { return }
                continuation.yield(Array(line) + [0x0A])
            }
            continuation.finish()
        }
        return .stream(events, contentType: Self.contentType)
    }
}
