import Foundation
import GoModules

/// Decides whether an upstream's complete answer is what it claims to be,
/// and so may be stored: a substituted or damaged file (an HTML page with
/// status 200, a zip breaking the module zip rules, a go.mod that does not
/// parse, a tile of the wrong size) is never cached. The client still gets
/// the upstream's bytes, so the go command judges them as it would have
/// without goedge.
package enum ContentCheck {
    package struct Failure: Error, CustomStringConvertible, Equatable {
        package let description: String
    }

    /// Checks the file at `path` for `resource`.
    package static func verify(_ resource: ProxyResource, fileAt path: String) throws(Failure) {
        if case .zip(let module, let version) = resource {
            do {
                try ModuleZip(path: path).checkModuleRules(prefix: "\(module.path)@\(version.text)/")
            } catch {
                throw Failure(description: error.description)
            }
            return
        }
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            throw Failure(description: "cannot read the download back")
        }
        try verify(resource, bytes: [UInt8](data))
    }

    /// Checks a body held in memory.
    package static func verify(_ resource: ProxyResource, bytes: [UInt8]) throws(Failure) {
        switch resource {
        case .info, .latest:
            // {"Version": "...", "Time": "..."}; other fields pass through untouched.
            struct Info: Decodable {
                // swift-format-ignore: AlwaysUseLowerCamelCase
                let Version: String
            }
            guard (try? JSONDecoder().decode(Info.self, from: Data(bytes))) != nil else {
                throw Failure(description: "not a version info JSON object")
            }
        case .mod(let module, let version):
            // Parsed as the go command reads a dependency's go.mod (laxly), and naming a module.
            guard let text = String(validating: bytes, as: UTF8.self),
                let goMod = try? GoModFile(parsing: text, file: "\(module.path)@\(version.text)/go.mod", strict: false),
                goMod.module != nil
            else { throw Failure(description: "not a go.mod file") }
        case .list:
            guard String(validating: bytes, as: UTF8.self) != nil else { throw Failure(description: "not a version list") }
        case .zip:
            throw Failure(description: "a zip is checked from its file")
        case .sumdb(let request):
            try verify(request.endpoint, bytes: bytes)
        }
    }

    /// Checksum database answers: tiles of their exact size, and signed notes
    /// where the protocol gives one (a lookup's tree, `latest`).
    private static func verify(_ endpoint: SumdbRequest.Endpoint, bytes: [UInt8]) throws(Failure) {
        switch endpoint {
        case .supported:
            break
        case .latest:
            guard isSignedNote(bytes) else { throw Failure(description: "not a signed tree note") }
        case .lookup:
            // The record, a blank line, then the signed tree it is in.
            guard isSignedNote(bytes), bytes.count > 2 else { throw Failure(description: "not a lookup record with a signed tree") }
        case .tile(let path):
            guard let expected = SumdbRequest.tileSize(path) else {
                guard !bytes.isEmpty else { throw Failure(description: "empty data tile") }
                return
            }
            guard bytes.count == expected else {
                throw Failure(description: "tile of \(bytes.count) bytes where \(expected) are due")
            }
        }
    }

    /// golang.org/x/mod/sumdb/note: text, a blank line, then one or more
    /// signature lines `— name base64`, the last ending the file.
    private static func isSignedNote(_ bytes: [UInt8]) -> Bool {
        guard let text = String(validating: bytes, as: UTF8.self), text.hasSuffix("\n"),
            let blank = text.range(of: "\n\n", options: .backwards)
        else { return false }
        let signatures = text[blank.upperBound...].split(separator: "\n")
        return !signatures.isEmpty && signatures.allSatisfy { $0.hasPrefix("\u{2014} ") && $0.split(separator: " ").count == 3 }
    }
}
