import Foundation
import LRUCache
import Sync

/// The control API that `goedge status` and `goedge cache` use, under
/// `/-/api/` (reachable only from the hosts the agent allows):
///
/// - `GET status`: ``AgentStatusReport``.
/// - `POST cache/list` ``ControlMessages/List``: the matching ``CacheEntry`` values.
/// - `POST cache/remove` ``ControlMessages/Remove``: a ``RemovalReport``.
/// - `POST cache/prune` ``ControlMessages/Prune``: a ``RemovalReport``.
/// - `POST cache/verify`: JSON lines of ``ControlMessages/VerifyProgress``.
/// - `POST cache/import/MODULE/@v/VERSION.EXT[/h1:HASH]`: stores the body as
///   that file, checked as a download is (and against the zip's h1 when
///   given, in URL-safe base64); answers ``ControlMessages/Imported``.
struct ControlAPI: Sendable {
    let administration: CacheAdministration
    let status: @Sendable () -> AgentStatusReport

    func reply(path: String, method: String, body: [UInt8]) async -> AgentReply? {
        switch path {
        case "status":
            guard method == "GET" || method == "HEAD" else { return .methodNotAllowed(allow: "GET, HEAD") }
            return JSONReply.make(status())
        case "cache/list":
            guard method == "POST" else { return .methodNotAllowed(allow: "POST") }
            switch JSONReply.decode(ControlMessages.List.self, from: body, expected: "{\"pattern\": …}") {
            case .failure(let error): return error.reply
            case .success(let request): return JSONReply.make(administration.entries(matching: request.pattern))
            }
        case "cache/remove":
            guard method == "POST" else { return .methodNotAllowed(allow: "POST") }
            switch JSONReply.decode(ControlMessages.Remove.self, from: body, expected: "{\"module\": …, \"version\": …}") {
            case .failure(let error): return error.reply
            case .success(let request):
                do {
                    return JSONReply.make(try administration.remove(module: request.module, version: request.version))
                } catch {
                    return .text(400, "\(error)")
                }
            }
        case "cache/prune":
            guard method == "POST" else { return .methodNotAllowed(allow: "POST") }
            switch JSONReply.decode(ControlMessages.Prune.self, from: body, expected: "{\"toBytes\": …, \"olderThanSeconds\": …}") {
            case .failure(let error): return error.reply
            case .success(let request):
                guard request.toBytes != nil || request.olderThanSeconds != nil else {
                    return .text(400, "say how far to prune: toBytes or olderThanSeconds")
                }
                let administration = self.administration
                let report = try? await BlockingIO.run {
                    administration.prune(to: request.toBytes, olderThan: request.olderThanSeconds.map { .seconds($0) })
                }
                return JSONReply.make(report ?? RemovalReport())
            }
        case "cache/verify":
            guard method == "POST" else { return .methodNotAllowed(allow: "POST") }
            return verify()
        default:
            if path.hasPrefix("cache/import/") {
                guard method == "POST" else { return .methodNotAllowed(allow: "POST") }
                return await importFile(String(path.dropFirst("cache/import/".count)), body: body)
            }
            return nil
        }
    }

    /// Checks every entry on a thread of its own, streaming progress.
    private func verify() -> AgentReply {
        let (lines, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let verifier = CacheVerifier(store: administration.store)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        Task {
            _ = try? await BlockingIO.run {
                var lastSent = ContinuousClock.now
                let report = verifier.run { checked, total in
                    // A line a second at most, and the first.
                    guard checked == 1 || ContinuousClock.now - lastSent > .seconds(1) else { return }
                    lastSent = .now
                    if let line = try? encoder.encode(ControlMessages.VerifyProgress(checked: checked, total: total)) {
                        continuation.yield(Array(line) + [0x0A])
                    }
                }
                let final = ControlMessages.VerifyProgress(checked: report.checked, total: report.checked, report: report)
                if let line = try? encoder.encode(final) { continuation.yield(Array(line) + [0x0A]) }
            }
            continuation.finish()
        }
        return AgentReply(
            ProxyAnswer(status: 200, reason: "OK", contentType: "application/x-ndjson", body: .stream(lines), cacheStatus: .agent))
    }

    private func importFile(_ path: String, body: [UInt8]) async -> AgentReply {
        var resourcePath = path
        var zipHash: String?
        if let slash = path.lastIndex(of: "/"), path[path.index(after: slash)...].hasPrefix("h1:") {
            let urlSafe = path[path.index(after: slash)...]
            zipHash = String(urlSafe).replacingOccurrences(of: "_", with: "/").replacingOccurrences(of: "-", with: "+")
            resourcePath = String(path[..<slash])
        }
        guard case .success(.proxy(let request)) = RequestRouter.route(method: .GET, uri: "/" + resourcePath),
            case .some(let (_, version)) = request.resource.moduleVersion, version.isCanonical
        else {
            return .text(400, "import takes MODULE/@v/VERSION.info, .mod or .zip, not \(resourcePath)")
        }
        switch request.resource {
        case .info, .mod, .zip: break
        default: return .text(400, "import takes MODULE/@v/VERSION.info, .mod or .zip, not \(resourcePath)")
        }
        let administration = self.administration
        let resource = request.resource
        let expectedZipHash = zipHash
        do {
            let stored = try await BlockingIO.run {
                // Checked and stored from a file, as a download is.
                let temporary = administration.store.configuration.directory + "/tmp/import-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
                guard FileManager.default.createFile(atPath: temporary, contents: Data(body)) else {
                    throw AdministrationError("cannot write \(temporary)")
                }
                defer { unlink(temporary) }
                return try administration.storeImported(resource, bytesAt: temporary, zipHash: expectedZipHash)
            }
            return JSONReply.make(ControlMessages.Imported(stored: stored))
        } catch {
            return AgentReply.body(Array("\(error)\n".utf8), contentType: "text/plain; charset=utf-8", status: 422)
        }
    }
}
