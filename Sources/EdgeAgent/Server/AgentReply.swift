import Sync

/// What one of the agent's own endpoints (`/-/…`) answers: a response, and
/// the one extra header some need (`Allow` on a 405).
struct AgentReply: Sendable {
    var answer: ProxyAnswer
    var extraHeader: (String, String)?

    init(_ answer: ProxyAnswer, extraHeader: (String, String)? = nil) {
        self.answer = answer
        self.extraHeader = extraHeader
    }

    /// A small body of the agent's own.
    static func body(_ bytes: [UInt8], contentType: String, status: Int = 200) -> AgentReply {
        AgentReply(
            ProxyAnswer(
                status: status, reason: ResponseHead.standardReason(for: status), contentType: contentType,
                body: .bytes(bytes), cacheStatus: .agent))
    }

    static func text(_ status: Int, _ message: String) -> AgentReply {
        var answer = ProxyAnswer.text(status, "goedge: \(message)")
        answer.cacheStatus = .agent
        return AgentReply(answer)
    }

    static func methodNotAllowed(allow: String) -> AgentReply {
        var reply = text(405, "this endpoint takes \(allow)")
        reply.extraHeader = ("Allow", allow)
        return reply
    }
}
