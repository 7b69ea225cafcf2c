import ChecksumDatabase
import GoModules
import Upstream
import ModuleProxy
import Prefetch

#if canImport(Glibc)
import Glibc
#endif

/// A prefetch through the agent's module protocol, as any of its clients
/// may fetch: what `goedge prefetch` and `goedge watch` walk the module graph
/// with when the agent does not prefetch for their user (changing the cache
/// through the control API needs root, goedge's own user or the control
/// token). The agent caches what it serves, as for the go command; this side
/// checks each `.mod` and `.zip` against go.sum as the agent's own prefetch
/// would, so a mismatch is reported (though, served once, it stays cached
/// until the go command refuses it).
struct ModuleProtocolSource: PrefetchSource {
    let agent: AgentClient

    func fetch(_ resource: ProxyResource, expectedHash: String?, keepBytes: Bool) async -> PrefetchFetch {
        let keep: DownloadSink.Keep
        let limit: Int64
        switch resource {
        case .zip:
            limit = Int64(ModuleZip.maximumSize)
            if expectedHash != nil {
                guard let fd = DownloadSink.temporaryFile() else {
                    return .failed("\(resource.protocolPath): cannot make a temporary file to check it in")
                }
                keep = .file(fd)
            } else {
                keep = .nothing
            }
        case .mod:
            limit = Int64(ModuleZip.maximumGoModSize)
            keep = keepBytes || expectedHash != nil ? .memory : .nothing
        default:
            limit = Int64(ModuleZip.maximumGoModSize)
            keep = keepBytes ? .memory : .nothing
        }
        defer { if case .file(let fd) = keep { close(fd) } }

        let head: ResponseHead
        let sink: any ResponseBodySink
        do {
            (head, sink) = try await agent.get(resource.protocolPath) { head in
                head.status == 200 ? DownloadSink(keep: keep, limit: limit) as any ResponseBodySink : ErrorBodySink(limit: 4096)
            }
        } catch {
            return .failed("\(error)")
        }
        guard head.status == 200, let download = sink as? DownloadSink else {
            return .refused(resource, status: head.status, reason: head.reason, body: (sink as? ErrorBodySink)?.bytes ?? [])
        }
        // Kept (in memory or a file) exactly when there is a hash to check.
        if let expectedHash, keep.isKept {
            let actual: String
            if case .file(let fd) = keep {
                do {
                    actual = try DirHash.zipHash(ModuleZip(taking: dup(fd)))
                } catch {
                    return .failed("\(resource.checksumName): the zip the agent served is not a module's: \(error)")
                }
            } else {
                actual = DirHash.goModHash(download.bytes)
            }
            if actual != expectedHash {
                return .failed("\(ProxyFailure.checksumMismatch(file: resource.checksumName, expected: expectedHash, actual: actual))")
            }
        }
        let fetchedNow = head.headers.contains { $0.name == "x-cache" && $0.value == "miss" }
        return .stored(fetchedNow: fetchedNow, bytes: download.count, body: keepBytes ? download.bytes : nil)
    }

    func checksumDatabase(named name: String) -> any ChecksumDatabaseFetching {
        AgentChecksumDatabase(agent: agent, name: name)
    }

    func versions(of module: ModulePath) async -> [ModuleVersion]? {
        let path = ProxyResource.list(module).protocolPath
        let limit = Int64(ModuleZip.maximumGoModSize)
        guard let (head, sink) = try? await agent.get(path, chooseSink: { _ in DownloadSink(keep: .memory, limit: limit) }),
            head.status == 200, let list = sink as? DownloadSink
        else { return nil }
        return ModuleVersion.listed(in: list.bytes)
    }
}
