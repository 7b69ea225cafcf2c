import Foundation
import GoModules
import ModuleProxy

/// Reads the workspace files a prefetch needs from disk, as `goedge
/// prefetch` and `goedge watch` name them.
///
/// - a folder: its go.work (and what that uses) if it has one, else its
///   go.mod and go.sum, else its go.sum;
/// - a go.mod: it and the go.sum beside it;
/// - a go.work: it, the go.work.sum beside it, and the go.mod and go.sum of
///   each module it uses;
/// - a go.sum or go.work.sum: just it.
public enum WorkspaceReader {
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads every path given (relative ones from `folder`).
    public static func read(_ paths: [String], from folder: String) throws(Problem) -> WorkspaceFiles {
        var files: [WorkspaceFiles.File] = []
        var seen: Set<String> = []
        func add(_ path: String, required: Bool) throws(Problem) {
            guard seen.insert(path).inserted else { return }
            guard let content = try contents(of: path, required: required) else { return }
            files.append(WorkspaceFiles.File(path: path, content: content))
        }
        func addWork(_ path: String) throws(Problem) {
            try add(path, required: true)
            let folder = WorkspaceFiles.File(path: path, content: "").folder
            try add(folder + "/go.work.sum", required: false)
            // The used modules: whatever parses of the go.work (the agent reports what does not).
            let uses = (try? GoWorkFile(parsing: files.last { $0.path == path }?.content ?? "", file: path))?.uses ?? []
            for use in uses {
                let module = Workspace.join(folder, use)
                try add(module + "/go.mod", required: false)
                try add(module + "/go.sum", required: false)
            }
        }

        for given in paths.isEmpty ? ["."] : paths {
            let path = Workspace.join(folder, given)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw Problem(description: "\(given): no such file or folder")
            }
            if isFolder.boolValue {
                if FileManager.default.fileExists(atPath: path + "/go.work") {
                    try addWork(path + "/go.work")
                } else if FileManager.default.fileExists(atPath: path + "/go.mod") {
                    try add(path + "/go.mod", required: true)
                    try add(path + "/go.sum", required: false)
                } else if FileManager.default.fileExists(atPath: path + "/go.sum") {
                    try add(path + "/go.sum", required: true)
                } else {
                    throw Problem(description: "\(given): no go.work, go.mod or go.sum in this folder")
                }
                continue
            }
            switch WorkspaceFiles.File(path: path, content: "").name {
            case "go.work":
                try addWork(path)
            case "go.mod":
                try add(path, required: true)
                try add(WorkspaceFiles.File(path: path, content: "").folder + "/go.sum", required: false)
            case "go.sum", "go.work.sum":
                try add(path, required: true)
            default:
                throw Problem(description: "\(given): expected a go.mod, go.work, go.sum or go.work.sum, or a folder")
            }
        }
        return WorkspaceFiles(files: files)
    }

    private static func contents(of path: String, required: Bool) throws(Problem) -> String? {
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw Problem(description: "\(path): no such file") }
            return nil
        }
        do {
            let data = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readToEnd() ?? Data()
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw Problem(description: "\(path): cannot read: \(error.localizedDescription)")
        }
    }
}

extension WorkspaceFiles {
    /// What does not parse, file:line and why (the agent would report the same).
    public var problems: [GoFileError] { Workspace(self).problems }
}
