import Foundation
import AgentServer
import LRUCache
import Logging
import ModuleProxy
import Upstream
import ChecksumDatabase
import SharedStore

extension AgentConfiguration {
    /// Builds the agent's configuration from the settings in effect.
    package init(layers: ConfigurationLayers, environment: [String: String]) throws(ConfigurationError) {
        let home = environment["HOME"] ?? "/"
        let listen = layers.string(Settings.listen).flatMap(ListenAddress.init(parsing:)) ?? Self.defaultListen
        if !listen.isLocalOnly && layers.boolean(Settings.allowRemote) != true {
            let source = layers.value(Settings.listen)?.source.description ?? "default"
            throw ConfigurationError([
                "listen = \"\(listen)\" (\(source)) can be reached from other hosts; set allow-remote "
                    + "(--allow-remote) if that is what you want"
            ])
        }
        let defaults = FreshnessPolicy()
        let prefetchConcurrency = layers.count(Settings.prefetchConcurrency) ?? 32
        let clientDefaults = UpstreamClientConfiguration()
        var limits = ConnectionLimits()
        if let head = layers.duration(Settings.requestHeadTimeout) { limits.headTimeout = .nanoseconds(head.nanosecondCount) }
        if let request = layers.duration(Settings.requestTimeout) { limits.requestTimeout = .nanoseconds(request.nanosecondCount) }
        self.init(
            listen: listen,
            listenWasGiven: layers.value(Settings.listen) != nil,
            // Checked when loaded: it parses.
            upstreams: try! UpstreamList(parsing: layers.string(Settings.upstream) ?? Self.defaultUpstream),
            cacheDirectory: layers.path(Settings.cacheDir, home: home) ?? Self.defaultCacheDirectory(environment: environment),
            maxCacheSize: layers.size(Settings.maxCacheSize) ?? Self.defaultMaxCacheSize,
            logLevel: layers.string(Settings.logLevel).flatMap(Logger.Level.init(rawValue:)) ?? .info,
            logsJSON: layers.string(Settings.logFormat) == "json",
            freshness: FreshnessPolicy(
                moduleMetadataTTL: layers.duration(Settings.metadataTTL) ?? defaults.moduleMetadataTTL,
                notFoundTTL: layers.duration(Settings.notFoundTTL) ?? defaults.notFoundTTL,
                checksumDatabaseTTL: layers.duration(Settings.sumdbTTL) ?? defaults.checksumDatabaseTTL),
            client: UpstreamClientConfiguration(
                connectTimeout: layers.duration(Settings.connectTimeout) ?? clientDefaults.connectTimeout,
                stallTimeout: layers.duration(Settings.stallTimeout) ?? clientDefaults.stallTimeout,
                netrcFile: environment["NETRC"],
                userAgent: "goedge/\(GoEdgeVersion.current)",
                backgroundConcurrency: prefetchConcurrency),
            shutdownTimeout: layers.duration(Settings.shutdownTimeout) ?? .seconds(10),
            idleTimeout: layers.duration(Settings.idleTimeout).map { $0 == .zero ? .never : .after($0) } ?? .whenSocketActivated,
            readAhead: layers.boolean(Settings.readAhead) ?? true,
            prefetchConcurrency: prefetchConcurrency,
            controlHosts: (layers.strings(Settings.controlHosts) ?? ["127.0.0.1", "::1"]).compactMap(HostPattern.init(parsing:)),
            limits: limits,
            maximumConnections: layers.count(Settings.maxConnections) ?? 2048,
            clientHosts: layers.strings(Settings.clientHosts)?.compactMap(HostPattern.init(parsing:)),
            clientCredentials: try Self.clientCredentials(layers: layers, home: home),
            tls: try Self.serverTLS(layers: layers, home: home),
            policy: try Self.policySource(layers: layers, home: home))
        // Checked when loaded: it parses.
        checksumDatabase = try! ChecksumDatabaseSetting.parse(layers.string(Settings.checksumDatabase) ?? Self.defaultChecksumDatabase)
        noChecksumDatabase = ModulePrefixPatterns(layers.string(Settings.noChecksumDatabase) ?? "")
        sharedStore = try Self.sharedStore(layers: layers, home: home, environment: environment)
    }

    /// The shared store, checked now (a mistake stops the start), with its credentials.
    private static func sharedStore(
        layers: ConfigurationLayers, home: String, environment: [String: String]
    ) throws(ConfigurationError) -> SharedStoreSettings? {
        guard let location = layers.string(Settings.sharedStore), !location.isEmpty else { return nil }
        guard let endpoint = layers.string(Settings.sharedStoreEndpoint) else {
            throw ConfigurationError(["shared-store is set without shared-store-endpoint (the object store's address)"])
        }
        let credentials: S3Credentials
        do {
            if let file = layers.path(Settings.sharedStoreCredentialsFile, home: home) {
                credentials = try S3Credentials.parse(try SettingsFileText.read(file, setting: "shared-store-credentials-file"), file: file)
            } else if let fromEnvironment = try S3Credentials.fromEnvironment(environment) {
                credentials = fromEnvironment
            } else {
                throw ConfigurationError([
                    "shared-store needs credentials: shared-store-credentials-file, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ])
            }
            return try SharedStoreSettings(
                location: location, endpoint: endpoint, region: layers.string(Settings.sharedStoreRegion) ?? "us-east-1",
                pathStyle: layers.boolean(Settings.sharedStorePathStyle) ?? true,
                mode: SharedStoreSettings.Mode(rawValue: layers.string(Settings.sharedStoreMode) ?? "read-write") ?? .readWrite,
                credentials: credentials)
        } catch let error as ConfigurationError {
            throw error
        } catch let problem as SharedStoreSettings.Problem {
            throw ConfigurationError([problem.description])
        } catch {
            throw ConfigurationError(["shared-store: \(error)"])
        }
    }

    package static let defaultChecksumDatabase = "sum.golang.org"

    /// The users and tokens that may fetch modules, read once, at start.
    private static func clientCredentials(layers: ConfigurationLayers, home: String) throws(ConfigurationError) -> ClientCredentials? {
        guard let path = layers.path(Settings.clientCredentialsFile, home: home) else { return nil }
        let text = try SettingsFileText.read(path, setting: "client-credentials-file")
        do {
            return try ClientCredentials(parsing: text)
        } catch {
            throw ConfigurationError(["\(path):\(error)"])
        }
    }

    /// The certificate and key, read and checked now: a mistake stops the start.
    private static func serverTLS(layers: ConfigurationLayers, home: String) throws(ConfigurationError) -> ServerTLS? {
        switch (layers.path(Settings.tlsCertificate, home: home), layers.path(Settings.tlsKey, home: home)) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw ConfigurationError(["tls-certificate is set without tls-key: give both, or neither"])
        case (nil, .some):
            throw ConfigurationError(["tls-key is set without tls-certificate: give both, or neither"])
        case (.some(let certificate), .some(let key)):
            do {
                return try ServerTLS(certificatePath: certificate, keyPath: key)
            } catch {
                throw ConfigurationError([error.description])
            }
        }
    }

    /// The policy file, read once now so that a mistake stops the start (the
    /// agent serves with what was read here, and reads again on SIGHUP).
    /// Watched for changes: the policy file, else the vulnerability database's index.
    private static func policySource(layers: ConfigurationLayers, home: String) throws(ConfigurationError) -> PolicySource? {
        let (file, vulndb) = PolicyFile.paths(layers: layers, home: home)
        guard let watched = file ?? vulndb.map({ $0 + "/index/modules.json" }) else { return nil }
        return PolicySource(path: watched, initial: try PolicyFile.read(file: file, vulndb: vulndb)) {
            do throws(ConfigurationError) {
                return .success(try PolicyFile.read(file: file, vulndb: vulndb))
            } catch {
                return .failure(PolicyFileProblems(error.problems))
            }
        }
    }
}
