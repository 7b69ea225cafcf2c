import Foundation
import Synchronization

/// The Go programs under Tests/Fixtures (the proxy fixture, the load
/// client), built once per test run into .build/test-fixtures with the Go
/// toolchain and Debian's golang.org/x/mod (GOPATH mode: no network needed).
public enum FixtureProgram {
    private static let built = Mutex<[String: String]>([:])

    /// The path of the built program in Tests/Fixtures/`name`.
    public static func build(_ name: String) throws -> String {
        try built.withLock { built in
            if let path = built[name] { return path }
            guard let go = which("go") else { throw TestFailure("the go command is missing: apt-get install golang-go") }
            // Inside the package's build folder, one per program: a test run
            // leaves nothing in /tmp, and the next one replaces it.
            let folder = Paths.packageRoot + "/.build/test-fixtures"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let output = folder + "/" + name
            let building = output + ".\(getpid()).building"
            var environment = ProcessInfo.processInfo.environment
            environment["GO111MODULE"] = "off"
            environment["GOPATH"] = "/usr/share/gocode"
            environment["GOCACHE"] = Paths.goBuildCache
            environment["GOFLAGS"] = ""
            let result = try ChildProcess.run(
                go, ["build", "-o", building, "."], environment: environment, directory: Paths.packageRoot + "/Tests/Fixtures/" + name)
            guard result.status == 0 else {
                throw TestFailure("building Tests/Fixtures/\(name) failed (is golang-golang-x-mod-dev installed?):\n\(result)")
            }
            // Renamed into place: another test run of this clone may be running the previous one.
            guard rename(building, output) == 0 else { throw TestFailure("cannot move \(building) to \(output): errno \(errno)") }
            built[name] = output
            return output
        }
    }
}
