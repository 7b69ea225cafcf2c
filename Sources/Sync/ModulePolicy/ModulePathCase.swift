/// Module paths on hosts that ignore case in their paths
/// (`github.com/Evil/pkg` is the repository `github.com/evil/pkg`): the go
/// command treats them as different modules, so a rule written for one
/// must match every spelling, or a case variant walks around it.
public enum ModulePathCase {
    /// Hosts whose repository paths are case-insensitive.
    public static let foldingHosts: Set<String> = ["github.com", "gitlab.com", "bitbucket.org"]

    /// The path as rules compare it: lower-cased on a folding host, as is elsewhere.
    public static func folded(_ path: String) -> String {
        let host = path.prefix { $0 != "/" }
        return foldingHosts.contains(host.lowercased()) ? path.lowercased() : path
    }
}
