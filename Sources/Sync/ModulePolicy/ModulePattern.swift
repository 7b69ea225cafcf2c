/// Which module paths a policy rule names: one path exactly, or a path and
/// everything below it (`example.com/org/...`), or every module (`...`),
/// as the go command's own patterns (GOPRIVATE and `go list` patterns) read.
/// On hosts that ignore case (``ModulePathCase``) every spelling matches.
public struct ModulePattern: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    /// `text` as compared (folded on hosts that ignore case).
    private let compared: String
    private let prefix: String?

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(" \t")
        guard !trimmed.isEmpty, !trimmed.contains(" "), !trimmed.contains("\t") else { return nil }
        self.text = trimmed
        compared = ModulePathCase.folded(trimmed)
        if trimmed == "..." {
            prefix = ""
        } else if trimmed.hasSuffix("/...") {
            let base = String(compared.dropLast(4))
            guard !base.isEmpty, !base.contains("...") else { return nil }
            prefix = base
        } else {
            guard !trimmed.contains("...") else { return nil }
            prefix = nil
        }
    }

    public func matches(_ module: String) -> Bool {
        let module = ModulePathCase.folded(module)
        guard let prefix else { return module == compared }
        if prefix.isEmpty { return true }
        return module == prefix || (module.hasPrefix(prefix) && module.dropFirst(prefix.count).first == "/")
    }

    public var description: String { text }
}

extension String {
    func trimmingCharacters(_ characters: String) -> String {
        var text = Substring(self)
        while let first = text.first, characters.contains(first) { text = text.dropFirst() }
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
