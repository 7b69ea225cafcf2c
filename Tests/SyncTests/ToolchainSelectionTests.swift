import Testing

@testable import GoModules

/// The go command's toolchain rules, case by case: what Go 1.21+ runs for
/// a GOTOOLCHAIN setting and a go.mod or go.work, taken from
/// cmd/go/internal/toolchain (select.go, switch.go) and its tests.
@Suite struct ToolchainSelectionTests {
    /// gover's order: a language version before its pre-releases before its
    /// first release; before 1.21 a missing patch is .0.
    @Test(arguments: [
        ("1.21", "1.21rc1", -1), ("1.21rc1", "1.21.0", -1), ("1.21rc1", "1.21rc2", -1), ("1.21.0", "1.21.1", -1),
        ("1.20", "1.20.0", 0), ("1.19", "1.19.0", 0), ("1.9", "1.10", -1), ("1.21beta1", "1.21rc1", -1),
        ("1.999testmod", "1.999.0", -1), ("1.22.10", "1.22.9", 1), ("1", "1.0.0", 0), ("1.21", "1.21", 0),
    ])
    func versionsAreOrderedAsGoverOrdersThem(_ left: String, _ right: String, _ order: Int) throws {
        let lhs = try #require(GoVersion(left))
        let rhs = try #require(GoVersion(right))
        #expect(GoVersion.compare(lhs, rhs) == order, "\(left) vs \(right)")
        #expect(GoVersion.compare(rhs, lhs) == -order)
    }

    @Test(arguments: ["", "1.", "1.21.", "01.21", "1.021", "1.21.0rc1", "1.21RC1", "go1.21", "1.21-rc1", "v1.21", "1.21rc01", "1.21.3.4"])
    func notVersions(_ text: String) {
        #expect(GoVersion(text) == nil, "\(text)")
    }

    @Test func toolchainNames() {
        #expect(GoVersion(toolchain: "go1.21.3")?.text == "1.21.3")
        #expect(GoVersion(toolchain: "go1.21.3-custom")?.text == "1.21.3")
        #expect(GoVersion(toolchain: "go1.999testmod")?.text == "1.999testmod")
        #expect(GoVersion(toolchain: "1.21.3") == nil)
        #expect(GoVersion(toolchain: "go1.21/../x") == nil)
        #expect(GoVersion("1.22.3")?.language == "1.22")
        #expect(GoVersion("1.22")?.isLanguageVersion == true)
        #expect(GoVersion("1.22.0")?.isLanguageVersion == false)
        #expect(GoVersion("1.20")?.isLanguageVersion == false)
    }

    typealias Decision = ToolchainSelection.Decision

    static func file(go: String?, toolchain: String? = nil) -> ToolchainSelection.StartFile {
        .init(path: "/w/go.mod", goLine: go, toolchainLine: toolchain)
    }

    /// (GOTOOLCHAIN, local go command, go line, toolchain line) → the toolchain downloaded, or nil for none.
    @Test(arguments: [
        // auto: the go line, as its first release from 1.21 on.
        ("auto", "go1.21.0", "1.22", nil, "go1.22.0"),
        ("auto", "go1.21.0", "1.22.3", nil, "go1.22.3"),
        ("auto", "go1.21.0", "1.999testmod", nil, "go1.999testmod"),
        ("auto", "go1.27.3", "1.22", nil, nil),
        ("auto", "go1.27.3", "1.27.3", nil, nil),
        // A toolchain line newer than the go line and the local one wins; an older one is ignored.
        ("auto", "go1.21.0", "1.21", "go1.22.5", "go1.22.5"),
        ("auto", "go1.21.0", "1.23", "go1.22.5", "go1.23.0"),
        ("auto", "go1.27.3", "1.21", "go1.22.5", nil),
        ("auto", "go1.21.0", "1.21", "default", nil),
        // A minimum of its own.
        ("go1.25.0+auto", "go1.21.0", "1.22", nil, "go1.25.0"),
        ("go1.25.0+auto", "go1.21.0", "1.26.1", nil, "go1.26.1"),
        ("go1.25.0", "go1.21.0", "1.26.1", nil, "go1.25.0"),
        ("local", "go1.21.0", "1.999testmod", nil, nil),
        ("local+auto", "go1.21.0", "1.22.1", nil, "go1.22.1"),
        // Go before 1.21 never switches.
        ("auto", "go1.19.8", "1.22", nil, nil),
        ("", "go1.19.8", "1.22", nil, nil),
    ] as [(String, String, String?, String?, String?)])
    func whatTheGoCommandDownloads(_ setting: String, _ local: String, _ goLine: String?, _ toolchainLine: String?, _ expected: String?) {
        let decision = ToolchainSelection.decide(setting: setting, localToolchain: local, file: Self.file(go: goLine, toolchain: toolchainLine))
        switch decision {
        case .download(let name, _): #expect(name == expected, "\(decision)")
        case .local: #expect(expected == nil, "\(decision)")
        default: Issue.record("\(decision)")
        }
    }

    @Test func pathModeLooksOnPathOnlyAndNonsenseIsRefused() {
        let path = ToolchainSelection.decide(setting: "path", localToolchain: "go1.21.0", file: Self.file(go: "1.22.1"))
        guard case .pathOnly(let name, _) = path else { Issue.record("\(path)"); return }
        #expect(name == "go1.22.1")
        for setting in ["bash", "go1.22+something", "1.22.0"] {
            let decision = ToolchainSelection.decide(setting: setting, localToolchain: "go1.21.0", file: Self.file(go: "1.22.1"))
            guard case .invalid = decision else { Issue.record("\(setting): \(decision)"); continue }
        }
        let badLine = ToolchainSelection.decide(setting: "auto", localToolchain: "go1.21.0", file: Self.file(go: "1.21", toolchain: "bash"))
        guard case .invalid = badLine else { Issue.record("\(badLine)"); return }
        let development = ToolchainSelection.decide(setting: "auto", localToolchain: "devel go1.23-abcdef", file: Self.file(go: "1.22.1"))
        guard case .invalid = development else { Issue.record("\(development)"); return }
    }

    /// A workspace module needing more than the go.work gives: the newest
    /// suitable release from the list, in auto mode only.
    @Test func aWorkspaceModuleNeedingMoreResolvesThroughTheList() throws {
        let work = ToolchainSelection.StartFile(path: "/w/go.work", goLine: "1.21", toolchainLine: nil)
        let needed = try #require(GoVersion("1.22"))
        let auto = ToolchainSelection.decide(setting: "auto", localToolchain: "go1.21.0", file: work, needed: needed)
        guard case .newest(let need, _) = auto else { Issue.record("\(auto)"); return }
        #expect(need.text == "1.22")
        let local = ToolchainSelection.decide(setting: "local", localToolchain: "go1.21.0", file: work, needed: needed)
        guard case .local = local else { Issue.record("\(local)"); return }
    }

    static let relRC = ["1.39.0", "1.39.1", "1.39.2", "1.40.0", "1.40.1", "1.40.2", "1.41rc1"]
    static let rel2 = ["1.39.0", "1.39.1", "1.39.2", "1.40.0", "1.40.1", "1.40.2"]
    static let rel0 = ["1.39.0", "1.39.1", "1.39.2", "1.40.0"]

    /// cmd/go's own TestNewerToolchain table (toolchain_test.go), row for row.
    @Test(arguments: [
        ("1.30", Self.rel0, "go1.39.2"),
        ("1.30", Self.rel2, "go1.39.2"),
        ("1.30", Self.relRC, "go1.39.2"),
        ("1.38", Self.rel0, "go1.39.2"),
        ("1.38", Self.rel2, "go1.39.2"),
        ("1.38", Self.relRC, "go1.39.2"),
        ("1.38.1", Self.rel0, "go1.39.2"),
        ("1.38.1", Self.rel2, "go1.39.2"),
        ("1.38.1", Self.relRC, "go1.39.2"),
        ("1.39", Self.rel0, "go1.39.2"),
        ("1.39", Self.rel2, "go1.39.2"),
        ("1.39", Self.relRC, "go1.39.2"),
        ("1.39.2", Self.rel0, "go1.39.2"),
        ("1.39.2", Self.rel2, "go1.39.2"),
        ("1.39.2", Self.relRC, "go1.39.2"),
        ("1.39.3", Self.rel0, "go1.40.0"),
        ("1.39.3", Self.rel2, "go1.40.2"),
        ("1.39.3", Self.relRC, "go1.40.2"),
        ("1.40", Self.rel0, "go1.40.0"),
        ("1.40", Self.rel2, "go1.40.2"),
        ("1.40", Self.relRC, "go1.40.2"),
        ("1.40.1", Self.rel0, nil),
        ("1.40.1", Self.rel2, "go1.40.2"),
        ("1.40.1", Self.relRC, "go1.40.2"),
        ("1.41", Self.rel0, nil),
        ("1.41", Self.rel2, nil),
        ("1.41", Self.relRC, "go1.41rc1"),
        ("1.41.0", Self.rel0, nil),
        ("1.41.0", Self.rel2, nil),
        ("1.41.0", Self.relRC, nil),
        ("1.40", [], nil),
    ] as [(String, [String], String?)])
    func newerToolchainChoosesAsTheGoCommandDoes(_ need: String, _ list: [String], _ expected: String?) throws {
        let available = list.compactMap { GoVersion($0) }
        #expect(available.count == list.count)
        #expect(ToolchainSelection.newerToolchain(need: try #require(GoVersion(need)), available: available.shuffled()) == expected)
    }

    @Test func theToolchainModulesVersions() {
        #expect(ToolchainModule.version(name: "go1.22.3", platform: "linux-amd64") == "v0.0.1-go1.22.3.linux-amd64")
        #expect(ToolchainModule.goVersion(of: "v0.0.1-go1.22.3.linux-amd64")?.text == "1.22.3")
        #expect(ToolchainModule.goVersion(of: "v0.0.1-go1.999testmod.windows-arm64")?.text == "1.999testmod")
        #expect(ToolchainModule.goVersion(of: "v0.0.1") == nil)
        #expect(ToolchainModule.goVersion(of: "v0.0.1-go1.22.3") == nil)
    }
}
