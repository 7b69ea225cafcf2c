import ArgumentParser
import Foundation
import AgentServer
import GoedgeConfiguration

/// `--agent URL`, for the commands that send work to a running agent.
struct ClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp(Settings.agent.help, valueName: "url"))
    var agent: String?

    var given: [String: RawSetting] {
        agent.map { [Settings.agent.name: Settings.agent.value(fromText: $0)] } ?? [:]
    }

    /// The agent to talk to: `agent` if set, else the listen address in
    /// effect (over HTTPS when the agent has a certificate).
    static func agentURL(_ layers: ConfigurationLayers) -> AgentURL {
        if let text = layers.string(Settings.agent), let url = AgentURL(parsing: text) { return url }
        let listen = layers.string(Settings.listen).flatMap(ListenAddress.init(parsing:)) ?? AgentConfiguration.defaultListen
        return AgentURL(listen: listen, secure: certificate(layers) != nil)
    }

    /// A client for the agent in effect. Over HTTPS it trusts the agent's
    /// own certificate (`tls-certificate`), which is often self-signed.
    static func agentClient(_ layers: ConfigurationLayers) -> AgentClient {
        let url = agentURL(layers)
        return AgentClient(agent: url, trustedCertificates: url.secure ? certificate(layers) : nil, tokenFolders: tokenFolders(layers))
    }

    /// Where this command may read the agent's control token: the cache
    /// folder in effect, and for root without a `cache-dir` of its own also
    /// the packaged system service's (`CacheDirectory=goedge`).
    static func tokenFolders(_ layers: ConfigurationLayers) -> [String] {
        let folder = cacheFolder(layers)
        guard getuid() == 0, layers.string(Settings.cacheDir) == nil else { return [folder] }
        return [folder, systemServiceCacheFolder]
    }

    static let systemServiceCacheFolder = "/var/cache/goedge"

    /// The cache folder in effect: `cache-dir`, else the default for this user.
    static func cacheFolder(_ layers: ConfigurationLayers) -> String {
        let environment = ProcessInfo.processInfo.environment
        return layers.path(Settings.cacheDir, home: environment["HOME"] ?? "/")
            ?? AgentConfiguration.defaultCacheDirectory(environment: environment)
    }

    private static func certificate(_ layers: ConfigurationLayers) -> String? {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/"
        return layers.path(Settings.tlsCertificate, home: home)
    }
}
