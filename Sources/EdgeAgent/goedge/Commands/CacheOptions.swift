import ArgumentParser
import AgentServer
import GoedgeConfiguration

/// `--agent` and `--cache-dir`, for the commands that manage a cache: they
/// work through the running agent, or on the folder itself when none runs.
struct CacheOptions: ParsableArguments {
    @OptionGroup var configurationFile: ConfigurationOptions
    @OptionGroup var client: ClientOptions

    @Option(help: ArgumentHelp(
        "The cache folder, when no agent runs (or when it is not the running agent's). Default: the cache-dir setting.",
        valueName: "dir"))
    var cacheDir: String?

    func layers() throws -> ConfigurationLayers {
        var given = client.given
        if let cacheDir { given[Settings.cacheDir.name] = Settings.cacheDir.value(fromText: cacheDir) }
        return try configurationFile.load(options: given)
    }
}
