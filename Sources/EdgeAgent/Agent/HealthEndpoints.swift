#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LRUCache
import Sync

/// `GET /-/healthz` (the process answers) and `GET /-/readyz` (it can do its
/// work: index loaded, cache folder writable, an upstream answering or none
/// needed yet), both JSON; readyz answers 503 while not ready.
struct HealthEndpoints: Sendable {
    let store: DiskCache
    let upstreams: UpstreamHealth

    func healthz() -> AgentReply {
        JSONReply.make(["status": "ok"])
    }

    func readyz() -> AgentReply {
        let cacheWritable = access(store.configuration.directory + "/tmp", W_OK) == 0
        var report = ReadinessReport(
            ready: false, indexLoaded: store.isIndexLoaded, cacheWritable: cacheWritable, upstreamAnswering: upstreams.isReady)
        report.ready = report.indexLoaded && report.cacheWritable && report.upstreamAnswering
        return JSONReply.make(report, status: report.ready ? 200 : 503)
    }
}

/// JSON bodies of the agent's own endpoints.
enum JSONReply {
    static func make(_ value: some Encodable, status: Int = 200) -> AgentReply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(value) else { return .text(500, "cannot encode the answer") }
        return .body(Array(body) + [0x0A], contentType: "application/json", status: status)
    }

    /// Decodes a request body, or the 400 to answer.
    static func decode<Value: Decodable>(_ type: Value.Type, from body: [UInt8], expected: String) -> Result<Value, AgentReplyError> {
        do {
            return .success(try JSONDecoder().decode(type, from: Data(body.isEmpty ? Array("{}".utf8) : body)))
        } catch {
            return .failure(AgentReplyError(reply: .text(400, "expected \(expected): \(error)")))
        }
    }
}

struct AgentReplyError: Error {
    let reply: AgentReply
}
