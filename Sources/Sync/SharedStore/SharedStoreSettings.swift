import Foundation
import Upstream

/// Where a fleet's shared store is and how to reach it (`shared-store`,
/// `shared-store-endpoint`, `shared-store-region`, `shared-store-path-style`,
/// `shared-store-mode`, and the credentials).
public struct SharedStoreSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable, CaseIterable {
        /// Read through and write behind.
        case readWrite = "read-write"
        /// Read only: runners that must not write (forks, untrusted branches).
        case read
    }

    public let bucket: String
    /// Every object's key begins with this (no leading or trailing slash; may be empty).
    public let prefix: String
    /// `https://s3.eu-west-1.amazonaws.com`, `http://ceph-rgw.internal:7480`.
    public let endpoint: String
    public let region: String
    /// `http://endpoint/bucket/key` rather than `http://bucket.endpoint/key`.
    public let pathStyle: Bool
    public let mode: Mode
    public let credentials: S3Credentials

    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public init(
        location: String, endpoint: String, region: String = "us-east-1", pathStyle: Bool = true, mode: Mode = .readWrite,
        credentials: S3Credentials
    ) throws(Problem) {
        guard location.hasPrefix("s3://") else {
            throw Problem(description: "shared-store is s3://BUCKET/PREFIX, not \(location)")
        }
        let rest = location.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        // S3's bucket naming rules: 3 to 63 lower-case letters, digits, dots and hyphens.
        guard (3...63).contains(bucket.count),
            bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") })
        else { throw Problem(description: "\(bucket) is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)") }
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        guard prefix.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "?" && $0 != "#" }) else {
            throw Problem(description: "the prefix \(prefix) of shared-store must be plain text without spaces, ? or #")
        }
        var endpoint = endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        guard endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://"),
            !endpoint.dropFirst(8).contains("/"), !endpoint.contains("@")
        else { throw Problem(description: "shared-store-endpoint is http(s)://HOST[:PORT], not \(endpoint)") }
        guard !region.isEmpty, region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw Problem(description: "shared-store-region \(region) is not a region name")
        }
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint
        self.region = region
        self.pathStyle = pathStyle
        self.mode = mode
        self.credentials = credentials
    }

    /// The store as people see it: `s3://bucket/prefix at endpoint`.
    public var description: String {
        "s3://\(bucket)\(prefix.isEmpty ? "" : "/" + prefix) at \(endpoint)"
    }

    /// The URL of an object. Keys are percent-encoded byte for byte outside
    /// S3's unreserved set (libcurl signs the path as given, so `@` and `!`
    /// must be encoded here or the signature does not match).
    public func url(forKey key: String) -> String {
        let encoded = key.split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }.joined(separator: "/")
        return bucketURL + "/" + encoded
    }

    /// The bucket's URL (path-style or virtual-hosted).
    public var bucketURL: String {
        if pathStyle { return endpoint + "/" + bucket }
        let scheme = endpoint.hasPrefix("https://") ? "https://" : "http://"
        return scheme + bucket + "." + endpoint.dropFirst(scheme.count)
    }

    /// The object key of a protocol path (`example.com/m/@v/v1.0.0.zip`).
    public func key(for path: String) -> String {
        prefix.isEmpty ? path : prefix + "/" + path
    }

    static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }

    /// libcurl's signing for requests to this store.
    var signing: AWSSigning {
        AWSSigning(
            region: region, accessKey: credentials.accessKey, secretKey: credentials.secretKey, sessionToken: credentials.sessionToken)
    }
}

/// The shared store's credentials: from `shared-store-credentials-file`
/// (lines `AWS_ACCESS_KEY_ID=…`, or an `~/.aws/credentials` file's
/// `aws_access_key_id = …`; what systemd's `LoadCredential=` hands over),
/// else the usual `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
/// `AWS_SESSION_TOKEN` variables. Never shown: the description hides them.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible {
    public let accessKey: String
    public let secretKey: String
    public let sessionToken: String?

    public init(accessKey: String, secretKey: String, sessionToken: String? = nil) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
    }

    public var description: String { "credentials of \(accessKey.prefix(4))…" }

    /// Reads `text` (a credentials file); throws with what is missing.
    public static func parse(_ text: String, file: String) throws(SharedStoreSettings.Problem) -> S3Credentials {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") || trimmed.hasPrefix("[") { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw SharedStoreSettings.Problem(description: "\(file): expected NAME=VALUE lines")
            }
            var name = trimmed[..<equals].trimmingCharacters(in: .whitespaces).uppercased()
            if name.hasPrefix("EXPORT ") { name = String(name.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\"") && value.hasSuffix("\"") || value.hasPrefix("'") && value.hasSuffix("'") {
                value = String(value.dropFirst().dropLast())
            }
            values[name] = value
        }
        return try from(values, source: file)
    }

    /// From the environment's `AWS_*` variables; nil when none is set.
    public static func fromEnvironment(_ environment: [String: String]) throws(SharedStoreSettings.Problem) -> S3Credentials? {
        guard environment["AWS_ACCESS_KEY_ID"] != nil || environment["AWS_SECRET_ACCESS_KEY"] != nil else { return nil }
        return try from(environment, source: "the environment")
    }

    private static func from(_ values: [String: String], source: String) throws(SharedStoreSettings.Problem) -> S3Credentials {
        guard let access = values["AWS_ACCESS_KEY_ID"], !access.isEmpty, let secret = values["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw SharedStoreSettings.Problem(description: "\(source) gives no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        // Sent as header values and libcurl's user:password: nothing that could end a line or the user.
        for value in [access, secret, values["AWS_SESSION_TOKEN"] ?? ""] where value.contains(where: { $0.isNewline || $0.isWhitespace }) {
            throw SharedStoreSettings.Problem(description: "\(source): a credential has whitespace in it")
        }
        guard !access.contains(":") else { throw SharedStoreSettings.Problem(description: "\(source): the access key has a \":\" in it") }
        let token = values["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKey: access, secretKey: secret, sessionToken: token)
    }
}
