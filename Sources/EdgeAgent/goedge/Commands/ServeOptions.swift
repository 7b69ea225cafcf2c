import ArgumentParser
import AgentServer
import GoedgeConfiguration

/// The options of `goedge serve`; every one can also be set in goedge.toml
/// or as a GOEDGE_* variable (see ``Settings``).
struct ServeOptions: ParsableArguments {
    @Option(help: ArgumentHelp(Settings.listen.help, valueName: "address"))
    var listen: String?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(Settings.allowRemote.help))
    var allowRemote: Bool?

    @Option(help: ArgumentHelp(Settings.upstream.help, valueName: "list"))
    var upstream: String?

    @Option(help: ArgumentHelp(Settings.cacheDir.help, valueName: "dir"))
    var cacheDir: String?

    @Option(help: ArgumentHelp(Settings.maxCacheSize.help, valueName: "size"))
    var maxCacheSize: String?

    @Option(help: ArgumentHelp(Settings.metadataTTL.help, valueName: "duration"))
    var metadataTtl: String?

    @Option(help: ArgumentHelp(Settings.notFoundTTL.help, valueName: "duration"))
    var notFoundTtl: String?

    @Option(help: ArgumentHelp(Settings.sumdbTTL.help, valueName: "duration"))
    var sumdbTtl: String?

    @Option(help: ArgumentHelp(Settings.connectTimeout.help, valueName: "duration"))
    var connectTimeout: String?

    @Option(help: ArgumentHelp(Settings.stallTimeout.help, valueName: "duration"))
    var stallTimeout: String?

    @Option(help: ArgumentHelp(Settings.shutdownTimeout.help, valueName: "duration"))
    var shutdownTimeout: String?

    @Option(help: ArgumentHelp(Settings.idleTimeout.help, valueName: "duration"))
    var idleTimeout: String?

    @Option(help: ArgumentHelp(Settings.requestHeadTimeout.help, valueName: "duration"))
    var requestHeadTimeout: String?

    @Option(help: ArgumentHelp(Settings.requestTimeout.help, valueName: "duration"))
    var requestTimeout: String?

    @Option(help: ArgumentHelp(Settings.maxConnections.help, valueName: "count"))
    var maxConnections: String?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(Settings.readAhead.help))
    var readAhead: Bool?

    @Option(help: ArgumentHelp(Settings.prefetchConcurrency.help, valueName: "count"))
    var prefetchConcurrency: String?

    @Option(help: ArgumentHelp(Settings.controlHosts.help, valueName: "hosts"))
    var controlHosts: String?

    @Option(help: ArgumentHelp(Settings.clientHosts.help, valueName: "hosts"))
    var clientHosts: String?

    @Option(help: ArgumentHelp(Settings.clientCredentialsFile.help, valueName: "file"))
    var clientCredentialsFile: String?

    @Option(help: ArgumentHelp(Settings.tlsCertificate.help, valueName: "file"))
    var tlsCertificate: String?

    @Option(help: ArgumentHelp(Settings.tlsKey.help, valueName: "file"))
    var tlsKey: String?

    @Option(help: ArgumentHelp(Settings.policyFile.help, valueName: "file"))
    var policyFile: String?

    @Option(help: ArgumentHelp(Settings.policyVulndb.help, valueName: "folder"))
    var policyVulndb: String?

    @Option(help: ArgumentHelp(Settings.checksumDatabase.help, valueName: "database"))
    var checksumDatabase: String?

    @Option(help: ArgumentHelp(Settings.noChecksumDatabase.help, valueName: "patterns"))
    var noChecksumDatabase: String?

    @Option(help: ArgumentHelp(Settings.sharedStore.help, valueName: "s3-url"))
    var sharedStore: String?

    @Option(help: ArgumentHelp(Settings.sharedStoreEndpoint.help, valueName: "url"))
    var sharedStoreEndpoint: String?

    @Option(help: ArgumentHelp(Settings.sharedStoreRegion.help, valueName: "region"))
    var sharedStoreRegion: String?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(Settings.sharedStorePathStyle.help))
    var sharedStorePathStyle: Bool?

    @Option(help: ArgumentHelp(Settings.sharedStoreMode.help, valueName: "mode"))
    var sharedStoreMode: String?

    @Option(help: ArgumentHelp(Settings.sharedStoreCredentialsFile.help, valueName: "file"))
    var sharedStoreCredentialsFile: String?

    @Option(help: ArgumentHelp(Settings.logLevel.help, valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp(Settings.logFormat.help, valueName: "format"))
    var logFormat: String?

    /// The options given on the command line, by setting.
    var given: [String: RawSetting] {
        var given: [String: RawSetting] = [:]
        let texts: [(Setting, String?)] = [
            (Settings.listen, listen), (Settings.upstream, upstream), (Settings.cacheDir, cacheDir),
            (Settings.maxCacheSize, maxCacheSize), (Settings.metadataTTL, metadataTtl), (Settings.notFoundTTL, notFoundTtl),
            (Settings.sumdbTTL, sumdbTtl), (Settings.connectTimeout, connectTimeout), (Settings.stallTimeout, stallTimeout),
            (Settings.shutdownTimeout, shutdownTimeout), (Settings.idleTimeout, idleTimeout),
            (Settings.requestHeadTimeout, requestHeadTimeout), (Settings.requestTimeout, requestTimeout),
            (Settings.maxConnections, maxConnections),
            (Settings.prefetchConcurrency, prefetchConcurrency), (Settings.controlHosts, controlHosts), (Settings.clientHosts, clientHosts),
            (Settings.clientCredentialsFile, clientCredentialsFile), (Settings.tlsCertificate, tlsCertificate),
            (Settings.tlsKey, tlsKey), (Settings.policyFile, policyFile), (Settings.policyVulndb, policyVulndb),
            (Settings.checksumDatabase, checksumDatabase), (Settings.noChecksumDatabase, noChecksumDatabase),
            (Settings.sharedStore, sharedStore), (Settings.sharedStoreEndpoint, sharedStoreEndpoint),
            (Settings.sharedStoreRegion, sharedStoreRegion), (Settings.sharedStoreMode, sharedStoreMode),
            (Settings.sharedStoreCredentialsFile, sharedStoreCredentialsFile),
            (Settings.logLevel, logLevel), (Settings.logFormat, logFormat),
        ]
        for (setting, text) in texts {
            if let text { given[setting.name] = setting.value(fromText: text) }
        }
        if let allowRemote { given[Settings.allowRemote.name] = .boolean(allowRemote) }
        if let readAhead { given[Settings.readAhead.name] = .boolean(readAhead) }
        if let sharedStorePathStyle { given[Settings.sharedStorePathStyle.name] = .boolean(sharedStorePathStyle) }
        return given
    }
}
