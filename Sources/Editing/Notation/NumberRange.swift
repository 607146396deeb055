/// A range of numbers as people write it: `LO-HI` or `START+LENGTH`, e.g. a mask's `1.5-3`,
/// `1:02+4.5` or a band's `2000-4000` (Hz). Time ranges read each end as ``Seconds``.
public struct NumberRange: Sendable, Equatable {
    /// How each end is read.
    public enum Ends: Sendable {
        /// Plain numbers.
        case numbers
        /// ``Seconds``: `12.5` or `m:ss.s`.
        case times
    }

    public var range: Range<Double>

    public init(_ range: Range<Double>) { self.range = range }

    /// Parses `LO-HI` (split at the first `-` after the first character, so that a negative
    /// start is read as such and refused) or `START+LENGTH`.
    /// - Throws: ``NumberRangeError``: the text is neither form, starts below 0 or is empty.
    public init(parsing text: String, ends: Ends = .numbers) throws(NumberRangeError) {
        let parts: (String, String, Bool)
        if let plus = text.firstIndex(of: "+") {
            parts = (String(text[..<plus]), String(text[text.index(after: plus)...]), true)
        } else if let dash = text.dropFirst().firstIndex(of: "-") {
            parts = (String(text[..<dash]), String(text[text.index(after: dash)...]), false)
        } else {
            throw .malformed(text)
        }
        func number(_ text: String) -> Double? { ends == .times ? Seconds(parsing: text)?.value : Double(text) }
        guard let low = number(parts.0), let value = number(parts.1) else { throw .malformed(text) }
        let high = parts.2 ? low + value : value
        guard low >= 0 else { throw .startsBelowZero(text) }
        guard low < high else { throw .empty(text) }
        range = low..<high
    }
}

/// Why a text is not a ``NumberRange``; each case holds the text, for a front end to name with
/// the field it came in.
public enum NumberRangeError: Error, Equatable, CustomStringConvertible {
    /// Neither `LO-HI` nor `START+LENGTH` with numbers at both ends.
    case malformed(String)
    /// The range starts below 0.
    case startsBelowZero(String)
    /// The end does not come after the start.
    case empty(String)

    public var description: String {
        switch self {
        case .malformed(let text): "give START-END or START+LENGTH, got \(text)"
        case .startsBelowZero(let text): "\(text) starts below 0"
        case .empty(let text): "\(text) is empty: the end must come after the start"
        }
    }
}
