import NIOSSL

/// The certificate and key TCP listeners speak TLS with (`tls-certificate`,
/// `tls-key`). The go command sends `.netrc` credentials, and those in a
/// GOPROXY URL, only over HTTPS: credentials for module fetches need this.
///
/// The unix socket stays plain: only local users reach it, and the kernel
/// names them (`SO_PEERCRED`).
package struct ServerTLS: Sendable {
    package let certificatePath: String
    package let keyPath: String
    let context: NIOSSLContext

    /// What went wrong with a file, said with its path.
    package struct Problem: Error, CustomStringConvertible {
        package let description: String
    }

    /// Reads a PEM certificate chain (the server's certificate first) and
    /// its PEM private key, and checks that they belong together.
    package init(certificatePath: String, keyPath: String) throws(Problem) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw Problem(description: "\(certificatePath): not a readable PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw Problem(description: "\(certificatePath): holds no PEM certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw Problem(description: "\(keyPath): not a readable PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // HTTP/1.1 only: the go command asks for h2 first and takes this.
        configuration.applicationProtocols = ["http/1.1"]
        do {
            // Refuses a key that does not match the certificate.
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw Problem(
                description: "\(certificatePath), \(keyPath): the key does not go with the certificate, or TLS cannot use them (\(error))")
        }
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}
