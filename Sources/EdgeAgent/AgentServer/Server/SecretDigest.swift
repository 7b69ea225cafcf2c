import Crypto

/// A secret (a client's token, the control token) kept as its SHA-256
/// digest and compared in constant time: neither its length nor the first
/// byte that differs shows in how long a refusal takes.
struct SecretDigest: Sendable, Equatable {
    private let bytes: [UInt8]

    init(of secret: some StringProtocol) {
        bytes = Array(SHA256.hash(data: Array(secret.utf8)))
    }

    func matches(_ offered: some StringProtocol) -> Bool {
        var difference: UInt8 = 0
        for (left, right) in zip(SecretDigest(of: offered).bytes, bytes) { difference |= left ^ right }
        return difference == 0
    }
}
