import Foundation
import NIOCore
import NIOHTTP1
import ChecksumDatabase
import ModulePolicy
import SharedStore

import AgentServer
import GoModules
import GoedgeConfiguration
import ModuleProxy
import Prefetch
import Upstream

#if canImport(Glibc)
import Glibc
#endif

/// Every parser that takes input from outside goedge, as a fuzz target:
/// whatever the bytes, each must answer (a value or an error), never trap,
/// hang or take memory without bound.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// A client's request head, and the route of its target.
    case requestHead = "request-head"
    /// Module paths and versions, escaped and not.
    case modulePath = "module-path"
    /// What follows /sumdb/ in a request.
    case sumdbPath = "sumdb-path"
    case goMod = "go-mod"
    case goWork = "go-work"
    case goSum = "go-sum"
    /// An upstream's response head, line by line as libcurl hands it over.
    case responseHead = "response-head"
    /// A module zip: its directory, its content, the module rules.
    case zip
    /// The control API's and prefetch's JSON bodies.
    case controlJSON = "control-json"
    /// A goedge.toml.
    case configuration
    /// A release time from a version or an `.info` (`Time`), and the cooldown's arithmetic on it.
    case releaseTime = "release-time"
    /// A policy file (goedge-policy(5)), and a decision under it.
    case policy
    /// A client credentials file, and an `Authorization` header checked against it.
    case credentials
    /// The checksum database's verifier keys, signed notes, tree heads and lookup records.
    case checksumDatabase = "checksum-database"
    /// What a shared store answers (a bucket listing, an error's code) and its credentials file.
    case sharedStore = "shared-store"

    func run(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch self {
        case .requestHead:
            if case .request(let head, _) = RequestHeadParser.parse(bytes) {
                _ = RequestRouter.route(method: head.method, uri: head.uri)
            }
        case .modulePath:
            _ = try? ModulePath(escaped: text)
            _ = try? ModulePath(text)
            _ = try? ModuleVersion(escaped: text)
            _ = try? ModuleVersion(text)
        case .sumdbPath:
            if let request = SumdbRequest(path: Substring(text)) {
                _ = ProxyResource.sumdb(request).cacheKey
                if case .tile(let path) = request.endpoint { _ = SumdbRequest.tileSize(path) }
            }
        case .goMod:
            _ = try? GoModFile(parsing: text, file: "go.mod", strict: true)
            _ = try? GoModFile(parsing: text, file: "go.mod", strict: false)
        case .goWork:
            _ = try? GoWorkFile(parsing: text, file: "go.work")
        case .goSum:
            _ = try? GoSumFile(parsing: text, file: "go.sum")
        case .responseHead:
            var parser = ResponseHeadParser()
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                parser.consume(line: line + "\n")
            }
            if let head = parser.head {
                _ = head.contentLength
                _ = head.endIsSignalled
                let reply = AgentReply(
                    status: head.status, reason: head.reason, contentType: head.contentType ?? "", body: .bytes([]), outcome: .passThrough)
                var buffer = ByteBufferAllocator().buffer(capacity: 0)
                ResponseHeadWriter.write(version: .http1_1, answer: reply, contentLength: head.contentLength, keepAlive: true, into: &buffer)
            }
        case .zip:
            Self.zip(bytes)
        case .controlJSON:
            let data = Data(bytes)
            _ = try? JSONDecoder().decode(ControlMessages.List.self, from: data)
            _ = try? JSONDecoder().decode(ControlMessages.Remove.self, from: data)
            _ = try? JSONDecoder().decode(ControlMessages.Prune.self, from: data)
            if let files = try? JSONDecoder().decode(WorkspaceFiles.self, from: data) { _ = Workspace(files) }
        case .configuration:
            _ = try? ConfigurationFile.parse(text, path: "goedge.toml")
        case .releaseTime:
            let published = ReleaseTime.ofPseudoVersion(text) ?? ReleaseTime.ofInfo(Array(bytes))
            let policy = ModulePolicy(minimumReleaseAge: .seconds(Int64.max / 2), minimumReleaseAgeText: "forever")
            for now in [Int64.min, 0, Int64.max] {
                _ = policy.cooldown(module: "example.com/m", version: text, date: ReleaseDate(latest: published, source: "fuzz"), now: now)
            }
        case .policy:
            if let policy = try? PolicyFile.parse(text, path: "policy.toml") {
                _ = policy.decide(module: "github.com/Example/m", version: "v1.2.3")
                _ = policy.decide(module: text)
            }
        case .credentials:
            if let credentials = try? ClientCredentials(parsing: text) {
                _ = credentials.user(authorizing: text)
                _ = credentials.user(authorizing: "Basic " + Data(bytes).base64EncodedString())
            }
        case .checksumDatabase:
            _ = try? ChecksumDatabaseSetting.parse(text)
            let key = (try! ChecksumDatabaseSetting.parse("sum.golang.org"))!.key
            _ = try? SignedNote(verifying: bytes, with: key)
            _ = try? TreeHead(verifying: bytes, with: key)
            _ = ChecksumDatabaseClient.hashes(in: Array(bytes), module: "example.com/m", version: "v1.0.0")
            _ = ModulePrefixPatterns(text).matches("example.com/m/v2")
        case .sharedStore:
            _ = BucketListing(parsing: Array(bytes))
            _ = SharedStore.refusal(403, Array(bytes))
            _ = try? S3Credentials.parse(text, file: "credentials")
            if let settings = try? SharedStoreSettings(
                location: "s3://bucket/" + text, endpoint: "http://127.0.0.1:1", credentials: S3Credentials(accessKey: "a", secretKey: "b"))
            {
                _ = settings.url(forKey: settings.key(for: text))
            }
        }
    }

    /// The zip from a file in memory (/dev/shm), read as goedge reads a download.
    private static func zip(_ bytes: UnsafeRawBufferPointer) {
        var template = Array("/dev/shm/goedge-fuzz-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var written = 0
        while written < bytes.count {
            let count = write(fd, bytes.baseAddress! + written, bytes.count - written)
            guard count > 0 else { break }
            written += count
        }
        guard let zip = try? ModuleZip(taking: fd) else { return }
        _ = try? zip.checkModuleRules(prefix: "example.com/m@v1.0.0/")
        for entry in zip.entries.prefix(64) { try? zip.read(entry) { _ in } }
        _ = try? DirHash.zipHash(zip)
    }
}
