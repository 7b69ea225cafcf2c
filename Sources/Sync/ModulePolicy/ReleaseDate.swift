/// When a version was published, as far as someone other than its
/// publisher can tell, and who told: the release-age cooldown decides on
/// this. `latest` is the time by which it certainly was published
/// (nanoseconds since the epoch); nil when no one can date it, which the
/// cooldown treats as too new (fail closed).
public struct ReleaseDate: Sendable, Equatable {
    public var latest: Int64?
    /// Who dated it, in words (`goedge policy check` and refusals say it).
    public var source: String

    public init(latest: Int64?, source: String) {
        self.latest = latest
        self.source = source
    }

    /// A date the publisher gave (a pseudo-version's own time, an `.info`'s
    /// `Time`): the publisher can write any date, so this is trusted only
    /// where nothing better exists.
    public static func publisherTime(_ time: Int64?) -> ReleaseDate {
        ReleaseDate(latest: time, source: time == nil ? "its release time cannot be learned" : "its publisher's time")
    }
}
