import Foundation

/// The text of a file a setting names (goedge.toml, the policy file, the
/// credentials file), and its TOML, or the problem a user should read.
enum SettingsFileText {
    /// `setting` names the key for the message ("policy-file"); nil for goedge.toml itself.
    static func read(_ path: String, setting: String? = nil) throws(ConfigurationError) -> String {
        // A file handle, not FileManager.contents: that gives nil for /dev/null.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigurationError(["\(path): cannot be opened" + (setting.map { " (\($0))" } ?? "")])
        }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() ?? Data(), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(["\(path): cannot be read as UTF-8 text"])
        }
        return text
    }

    /// `text`'s TOML; a syntax error names the file, line and column.
    static func parseTOML(_ text: String, path: String) throws(ConfigurationError) -> (entries: [FlatTOML.Entry], sections: [FlatTOML.Section]) {
        do {
            return try FlatTOML.parse(text)
        } catch {
            throw ConfigurationError(["\(path):\(error)"])
        }
    }
}
