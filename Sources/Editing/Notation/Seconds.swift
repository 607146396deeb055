/// A time as people write it, on the command line, in a batch line or in a request to the server:
/// seconds (`12.5`) or minutes and seconds (`1:02.5`).
public struct Seconds: Sendable, Equatable {
    public var value: Double

    public init(_ value: Double) { self.value = value }

    /// Parses `12.5` (any finite number) or `m:ss.s` (whole minutes from 0, seconds below 60);
    /// nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let seconds = Double(text), seconds.isFinite else { return nil }
            value = seconds
        case 2:
            guard let minutes = Int(parts[0]), minutes >= 0, let seconds = Double(parts[1]), (0..<60).contains(seconds) else { return nil }
            value = Double(minutes) * 60 + seconds
        default:
            return nil
        }
    }
}
