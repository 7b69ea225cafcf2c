import ChecksumDatabase
import GoModules
import ModuleProxy

/// Warming the Go toolchain a workspace's go command will switch to: the
/// largest download a CI job makes (about 70 MB), on every job of an
/// ephemeral runner.
extension PrefetchJob {
    /// Decides, as the client's go command will (``ToolchainSelection``),
    /// which toolchains it downloads for this workspace, and fetches each:
    /// its checksum database record first (as the go command checks a
    /// toolchain there even when go.sum lists it), then its `.mod`, `.zip`
    /// and `.info`, checked against that record. Says what it decided either way.
    func warmToolchains(_ workspace: Workspace, facts: GoCommandFacts?, recorder: PrefetchRecorder) async {
        guard let facts else { return }
        var chosen: [(name: String, reason: String)] = []
        // In a workspace, a module's go line above the go.work's needs a newer toolchain still.
        let needed = workspace.isWorkspace ? workspace.mainModules.compactMap { $0.goVersion.flatMap { GoVersion($0) } }.max() : nil
        for file in workspace.startFiles.isEmpty ? [nil] : workspace.startFiles.map(Optional.some) {
            switch ToolchainSelection.decide(setting: facts.toolchainSetting, localToolchain: facts.version, file: file, needed: needed) {
            case .local(let reason):
                recorder.toolchain("none to warm: \(reason)")
            case .pathOnly(let name, let reason):
                recorder.toolchain("none to warm: \(name) (\(reason))")
            case .invalid(let message):
                recorder.problem(message)
            case .download(let name, let reason):
                if !chosen.contains(where: { $0.name == name }) { chosen.append((name, reason)) }
            case .newest(let need, let reason):
                guard let name = await newestToolchain(need, local: facts.version, recorder: recorder) else { continue }
                if !chosen.contains(where: { $0.name == name }) { chosen.append((name, reason)) }
            }
        }
        for (name, reason) in chosen {
            await warmToolchain(name, reason: reason, facts: facts, workspace: workspace, recorder: recorder)
        }
    }

    /// The release the go command switches to for `need`, from the proxy's
    /// list of toolchains (every platform's, and the go command's own version).
    private func newestToolchain(_ need: GoVersion, local: String, recorder: PrefetchRecorder) async -> String? {
        guard let module = try? ModulePath(ToolchainModule.path), let listed = await source.versions(of: module) else {
            recorder.problem("cannot read the list of Go toolchains (\(ToolchainModule.path)) to choose one for go \(need.text)")
            return nil
        }
        let available = listed.compactMap { ToolchainModule.goVersion(of: $0.text) } + [GoVersion(toolchain: local)].compactMap { $0 }
        guard let name = ToolchainSelection.newerToolchain(need: need, available: available) else {
            recorder.problem("no Go toolchain in the list is at least go \(need.text)")
            return nil
        }
        return name
    }

    private func warmToolchain(
        _ name: String, reason: String, facts: GoCommandFacts, workspace: Workspace, recorder: PrefetchRecorder
    ) async {
        let versionText = ToolchainModule.version(name: name, platform: facts.platform)
        guard let module = try? ModulePath(ToolchainModule.path), let version = try? ModuleVersion(versionText) else {
            recorder.problem("\(name) for \(facts.platform) is not a toolchain the go command can download")
            return
        }
        let key = ModuleVersionKey(module: module, version: version)
        var zipHash = workspace.hash(of: key, goMod: false)
        var goModHash = workspace.hash(of: key, goMod: true)
        // What the go command will check the toolchain against, read through
        // the agent so that its own lookup finds it there.
        let database: ChecksumDatabaseSetting?
        do {
            database = try ChecksumDatabaseSetting.parse(facts.checksumDatabase)
        } catch {
            recorder.problem("GOSUMDB=\(facts.checksumDatabase) is not one the go command accepts: \(error)")
            return
        }
        guard let database else {
            recorder.problem("GOSUMDB=off: the go command will refuse to switch to \(name) (a toolchain must be in the checksum database)")
            return
        }
        if database.url == nil {
            let reader = source.checksumDatabase(named: database.key.name)
            // Through a proxy the go command first asks whether it serves the database at all.
            _ = await reader.fetch(endpoint: "supported")
            do {
                let record = try await ChecksumDatabaseClient(key: database.key, fetch: reader).lookup(module, version)
                zipHash = record.zipHash
                goModHash = record.goModHash
            } catch {
                recorder.failed("sumdb/\(database.key.name)/lookup/\(module.escaped)@\(version.escaped)", "\(error)")
                return
            }
        }
        let steps = [Step(.mod(module, version), goModHash), Step(.zip(module, version), zipHash), Step(.info(module, version), nil)]
        for step in steps where recorder.claim(step.resource) {
            recorder.plan(1)
            if case .failed = await Self.fetch(step.resource, expectedHash: step.expectedHash, from: source, recorder: recorder) {
                recorder.toolchain("\(name) for \(facts.platform) not warmed (\(reason))")
                return
            }
        }
        recorder.toolchain("warmed \(name) for \(facts.platform) (\(reason))")
    }
}
