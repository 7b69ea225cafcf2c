import Foundation
import LRUCache
import GoModules
import Upstream
import ModuleProxy
import Prefetch
import CacheAdmin
import AgentServer
import GoedgeConfiguration

/// Where a `goedge cache` or `goedge status` command does its work: the
/// running agent, through its control API, or, when no agent answers, the
/// cache folder itself, holding its lock (an agent that starts meanwhile
/// waits for the command to finish, so neither corrupts the other).
enum CacheTarget {
    case agent(AgentClient, AgentStatusReport)
    case folder(CacheAdministration)

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The running agent if one answers (and uses the folder asked for),
    /// else the folder.
    static func resolve(_ layers: ConfigurationLayers, folderGiven: Bool) async throws(Failure) -> CacheTarget {
        let folder = ClientOptions.cacheFolder(layers)
        var client = ClientOptions.agentClient(layers)
        do {
            let status = try await client.status()
            if !folderGiven || AgentClient.sameFolder(status.cache.directory, folder) {
                client.takeControlToken(from: status)
                return .agent(client, status)
            }
        } catch where error.unreachable {
            // Nobody listens: the folder it is.
        } catch {
            client.shutdown()
            throw Failure(description: "\(error)")
        }
        client.shutdown()
        return .folder(try openFolder(folder, layers: layers))
    }

    static func openFolder(_ folder: String, layers: ConfigurationLayers) throws(Failure) -> CacheAdministration {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw Failure(description: "no agent answers, and there is no cache folder at \(folder) (--cache-dir picks another)")
        }
        let limit = layers.size(Settings.maxCacheSize) ?? AgentConfiguration.defaultMaxCacheSize
        do {
            // The limit the agent would use: loading the index evicts down to it.
            let store = try DiskCache(configuration: .init(directory: folder, maxSize: limit.bytes, lockWait: .seconds(5)))
            store.loadIndex()
            return CacheAdministration(store: store)
        } catch DiskCacheError.inUse {
            throw Failure(
                description: "the cache folder \(folder) is held by a goedge process that does not answer here "
                    + "(--agent names where it listens)")
        } catch {
            throw Failure(description: "cannot open the cache folder \(folder): \(error)")
        }
    }

    func shutdown() {
        if case .agent(let client, _) = self { client.shutdown() }
    }

    /// Calls the control API and decodes its JSON answer.
    static func decode<Value: Decodable>(
        _ type: Value.Type, from client: AgentClient, _ path: String, body: some Encodable
    ) async throws(Failure) -> Value {
        do {
            let answer = try await client.call(path, body: Array(try JSONEncoder().encode(body)))
            guard answer.status == 200 else {
                throw Failure(description: answer.text.isEmpty ? "the agent answered \(answer.status) \(answer.reason)" : answer.text)
            }
            return try JSONDecoder().decode(type, from: Data(answer.body))
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(error)")
        }
    }
}
