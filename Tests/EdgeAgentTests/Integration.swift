import Testing

/// Every test that starts processes (the Go proxy fixture, goedge, the go
/// command) lives in a suite nested in this one, so they run one at a time:
/// these machines have two cores, and several tests measure timing-sensitive
/// behaviour (shutdown, interrupted downloads).
@Suite(.serialized) enum Integration {}
