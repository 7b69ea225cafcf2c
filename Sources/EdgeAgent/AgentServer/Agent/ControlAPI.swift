import Foundation
import LRUCache
import ModuleProxy
import CacheAdmin
import GoModules
import NIOCore
import NIOHTTP1
import ModulePolicy
import Synchronization

/// The control API that `goedge status` and `goedge cache` use, under
/// `/-/api/` (reachable only from the hosts the agent allows):
///
/// - `GET status`: ``AgentStatusReport``.
/// - `POST cache/list` ``ControlMessages/List``: the matching ``CacheEntry`` values.
/// - `POST cache/remove` ``ControlMessages/Remove``: a ``RemovalReport``.
/// - `POST cache/prune` ``ControlMessages/Prune``: a ``RemovalReport``.
/// - `POST cache/verify`: JSON lines of ``ControlMessages/VerifyProgress``;
///   one at a time (it reads every file on the blocking pool that misses
///   need too, and removes what is damaged), a second is answered 409.
/// - `POST policy/check` ``ControlMessages/PolicyCheck``: a ``PolicyVerdict``,
///   the release-age cooldown included (dated as a request would be).
/// - `POST cache/import/MODULE/@v/VERSION.EXT[/h1:HASH]`: stores the body as
///   that file, checked as a download is (and against the zip's h1 when
///   given, in URL-safe base64); answers ``ControlMessages/Imported``. The
///   body streams into the cache's temporary folder under its accounting,
///   never whole into memory.
struct ControlAPI: Sendable {
    let administration: CacheAdministration
    let status: @Sendable () -> AgentStatusReport
    /// The module policy in force, to mark what it no longer serves.
    var policy = PolicyHolder()
    /// Set while a verification runs.
    let verifying = VerificationSlot()
    /// Judges versions as requests are judged (``ControlAPI`` answers `policy/check` with it).
    var judge: (@Sendable (String, String?) async -> PolicyVerdict)?

    /// Longest prune age accepted: a century (anything longer means "everything").
    static let maximumPruneAge: Int64 = 100 * 366 * 86_400

    /// The endpoints that change what the cache holds.
    static func changesTheCache(_ path: String) -> Bool {
        path == "cache/remove" || path == "cache/prune" || path == "cache/verify" || path.hasPrefix("cache/import/")
    }

    func accept(path: String, method: HTTPMethod) -> AgentEndpoints.Acceptance {
        switch path {
        case "status":
            return method == .GET || method == .HEAD ? .serve(bodyLimit: 0) : AgentEndpoints.methodNotAllowed("GET, HEAD")
        case "cache/list", "cache/remove", "cache/prune", "cache/verify", "policy/check":
            return method == .POST ? .serve(bodyLimit: AgentEndpoints.controlBodyLimit) : AgentEndpoints.methodNotAllowed("POST")
        default:
            guard path.hasPrefix("cache/import/") else { return .refuse(status: 404, message: "no agent endpoint /-/api/\(path)") }
            // The go command's own limit on a module zip.
            return method == .POST ? .serve(bodyLimit: Int(ModuleZip.maximumSize)) : AgentEndpoints.methodNotAllowed("POST")
        }
    }

    func reply(path: String, method: HTTPMethod, body: RequestBody) async -> AgentReply {
        switch path {
        case "status":
            return JSONReply.make(status())
        case "cache/list":
            switch JSONReply.decode(ControlMessages.List.self, from: await body.collect(), expected: "{\"pattern\": …}") {
            case .failure(let error): return error.reply
            case .success(let request):
                return JSONReply.make(administration.entries(matching: request.pattern, markedBy: policy.policy))
            }
        case "cache/remove":
            let decoded = JSONReply.decode(
                ControlMessages.Remove.self, from: await body.collect(), expected: "{\"module\": …, \"version\": …}")
            switch decoded {
            case .failure(let error): return error.reply
            case .success(let request):
                let administration = self.administration
                await administration.store.waitForIndex()
                do {
                    return JSONReply.make(
                        try await BlockingIO.run { try administration.remove(module: request.module, version: request.version) })
                } catch {
                    return .text(400, "\(error)")
                }
            }
        case "cache/prune":
            let decoded = JSONReply.decode(
                ControlMessages.Prune.self, from: await body.collect(), expected: "{\"toBytes\": …, \"olderThanSeconds\": …}")
            switch decoded {
            case .failure(let error): return error.reply
            case .success(let request): return await prune(request)
            }
        case "cache/verify":
            _ = await body.collect()
            return await verify()
        case "policy/check":
            switch JSONReply.decode(ControlMessages.PolicyCheck.self, from: await body.collect(), expected: "{\"module\": …, \"version\": …}") {
            case .failure(let error): return error.reply
            case .success(let request):
                guard let judge else { return .text(404, "no policy here") }
                return JSONReply.make(await judge(request.module, request.version))
            }
        default:
            return await importFile(String(path.dropFirst("cache/import/".count)), body: body)
        }
    }

    private func prune(_ request: ControlMessages.Prune) async -> AgentReply {
        guard request.toBytes != nil || request.olderThanSeconds != nil else {
            return .text(400, "say how far to prune: toBytes or olderThanSeconds")
        }
        if let size = request.toBytes, size < 0 { return .text(400, "toBytes must not be negative") }
        if let age = request.olderThanSeconds, !(0...Self.maximumPruneAge).contains(age) {
            return .text(400, "olderThanSeconds must be between 0 and \(Self.maximumPruneAge) (a century)")
        }
        let administration = self.administration
        await administration.store.waitForIndex()
        let report = try? await BlockingIO.run {
            administration.prune(to: request.toBytes, olderThan: request.olderThanSeconds.map { .seconds($0) })
        }
        return JSONReply.make(report ?? RemovalReport())
    }

    /// Checks every entry on the blocking-work pool, streaming progress.
    private func verify() async -> AgentReply {
        guard verifying.take() else {
            return .text(409, "a verification of the cache is running already; try again when it is done")
        }
        await administration.store.waitForIndex()
        let (lines, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let verifier = CacheVerifier(store: administration.store)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        BlockingIO.submit {
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
            continuation.finish()
            verifying.give()
        }
        return .stream(lines, contentType: "application/x-ndjson")
    }

    private func importFile(_ path: String, body: RequestBody) async -> AgentReply {
        var resourcePath = path
        var zipHash: String?
        if let slash = path.lastIndex(of: "/"), path[path.index(after: slash)...].hasPrefix("h1:") {
            let urlSafe = path[path.index(after: slash)...]
            zipHash = String(urlSafe).replacingOccurrences(of: "_", with: "/").replacingOccurrences(of: "-", with: "+")
            resourcePath = String(path[..<slash])
        }
        guard case .success(.proxy(let request)) = RequestRouter.route(method: .GET, uri: "/" + resourcePath),
            request.resource.importPath != nil, case .some(let (_, version)) = request.resource.moduleVersion, version.isCanonical
        else {
            return .text(400, "import takes MODULE/@v/VERSION.info, .mod or .zip, not \(resourcePath)")
        }
        let administration = self.administration
        await administration.store.waitForIndex()
        do {
            guard let writer = try administration.importWriter(for: request.resource, size: Int64(body.length)) else {
                _ = await body.collect()
                return JSONReply.make(ControlMessages.Imported(stored: false))
            }
            do {
                try await body.forEach { chunk in
                    try await BlockingIO.run { try chunk.withUnsafeReadableBytes { try writer.write($0) } }
                }
            } catch {
                writer.abandon()
                throw error
            }
            let stored = try await administration.finishImport(request.resource, writer: writer, zipHash: zipHash)
            return JSONReply.make(ControlMessages.Imported(stored: stored))
        } catch {
            return .text(400, "\(error)")
        }
    }
}

/// One verification at a time.
final class VerificationSlot: Sendable {
    private let taken = Atomic<Bool>(false)

    /// Whether the slot was free (it is this caller's now).
    func take() -> Bool { taken.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged }

    func give() { taken.store(false, ordering: .releasing) }
}
