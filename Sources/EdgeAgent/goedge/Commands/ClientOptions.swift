import ArgumentParser
import AgentServer
import GoedgeConfiguration

/// `--agent URL`, for the commands that send work to a running agent.
struct ClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp(Settings.agent.help, valueName: "url"))
    var agent: String?

    var given: [String: RawSetting] {
        agent.map { [Settings.agent.name: Settings.agent.value(fromText: $0)] } ?? [:]
    }

    /// The agent to talk to: `agent` if set, else the listen address in effect.
    static func agentURL(_ layers: ConfigurationLayers) -> AgentURL {
        if let text = layers.string(Settings.agent), let url = AgentURL(parsing: text) { return url }
        let listen = layers.string(Settings.listen).flatMap(ListenAddress.init(parsing:)) ?? AgentConfiguration.defaultListen
        return AgentURL(listen: listen)
    }
}
