/// Range checks for the numeric fields of configuration files, with one message format for all
/// of them: the field, the value it has and the range allowed (`"layers_per_block is -1;
/// allowed: 1 to 16"`). Each configuration turns the message into its own error type.
///
/// The ranges are generous bounds around every published model of the family, not the
/// reference's limits (PyTorch has none): they exist so that a damaged or hostile file is
/// refused before anything is allocated from it. `docs/reliability.md` lists them.
///
/// ```swift
/// try FieldBounds.check("layers_per_block", layers, in: 1...16) { ModelError.unsupportedConfiguration(model: "UNet", reason: $0) }
/// ```
public enum FieldBounds {
    /// Throws `error(message)` unless `range` holds `value`.
    public static func check(_ field: String, _ value: Int, in range: ClosedRange<Int>,
                             else error: (String) -> any Error) throws {
        guard range.contains(value) else { throw error("\(field) is \(value); allowed: \(describe(range))") }
    }

    /// Throws unless `values` has a count in `count` and every value lies in `range`.
    public static func check(_ field: String, _ values: [Int], count: ClosedRange<Int>, each range: ClosedRange<Int>,
                             else error: (String) -> any Error) throws {
        guard count.contains(values.count) else {
            throw error("\(field) has \(values.count) values; allowed: \(describe(count))")
        }
        for (index, value) in values.enumerated() { try check("\(field)[\(index)]", value, in: range, else: error) }
    }

    /// Throws unless `value` is finite and lies in `range`.
    public static func check(_ field: String, _ value: Double, in range: ClosedRange<Double>,
                             else error: (String) -> any Error) throws {
        guard value.isFinite, range.contains(value) else {
            throw error("\(field) is \(value); allowed: a finite number from \(range.lowerBound) to \(range.upperBound)")
        }
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
    }
}

/// A configuration decoded from a JSON file that checks its own fields (``FieldBounds``,
/// supported values, divisibility) before anything is built from it. Readers of model folders
/// call ``validate()`` right after decoding, and name the file in the error.
public protocol CheckedConfiguration: Decodable {
    /// Throws, naming the field and what is allowed, when a field is out of range or unsupported.
    func validate() throws
}
