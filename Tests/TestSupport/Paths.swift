import Foundation

/// Where the package and its built programs are.
public enum Paths {
    /// The package's root folder.
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The `goedge` executable under test: `$GOEDGE_BINARY`, else the one
    /// built beside the test bundle.
    public static let goedge: String = {
        if let override = ProcessInfo.processInfo.environment["GOEDGE_BINARY"] { return override }
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("goedge").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return packageRoot + "/.build/debug/goedge"
    }()

    /// A Go build cache shared by every test's go commands (safe to share, and
    /// saves recompiling the standard library each time). Under .build, like
    /// everything else the tests build: nothing is left in /tmp.
    public static let goBuildCache: String = {
        let path = packageRoot + "/.build/go-build-cache"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()
}
