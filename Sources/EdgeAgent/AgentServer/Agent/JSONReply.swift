import Foundation

/// JSON bodies of the agent's own endpoints.
enum JSONReply {
    static func make(_ value: some Encodable, status: Int = 200) -> AgentReply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let body = try? encoder.encode(value) else { return .text(500, "cannot encode the answer") }
        return .body(Array(body) + [0x0A], contentType: "application/json", status: status)
    }

    /// Decodes a request body, or the 400 to answer.
    static func decode<Value: Decodable>(_ type: Value.Type, from body: [UInt8], expected: String) -> Result<Value, AgentReplyError> {
        do {
            return .success(try JSONDecoder().decode(type, from: Data(body.isEmpty ? Array("{}".utf8) : body)))
        } catch {
            return .failure(AgentReplyError(reply: .text(400, "expected \(expected): \(error)")))
        }
    }
}

struct AgentReplyError: Error {
    let reply: AgentReply
}
