import Foundation

/// The one JSON reader for every file the toolkit reads (model and scheduler configurations,
/// tokenizer files, safetensors headers, shard indexes, edit plans, batch lines): plain JSON as
/// RFC 8259 defines it and as Python's `json` module writes it, checked before `JSONDecoder`
/// or `JSONSerialization` sees it.
///
/// - No JSON5 (comments, unquoted keys, trailing commas): Foundation's JSON5 scanner crashed on
///   malformed input, and no model file needs it.
/// - Python's non-finite literals `NaN`, `Infinity` and `-Infinity` are accepted, because
///   diffusers writes `"lambda_min_clipped": -Infinity`; they decode into `Float`/`Double`
///   fields (and configurations check their ranges).
/// - A key repeated in one object is refused: readers disagree on which copy wins, so a file
///   that says two things is an error, not a choice.
/// - Nesting is limited (``maximumDepth``), so a hostile file cannot exhaust the stack.
/// - A number past `Double`'s range (`1e400`) is refused where it stands.
///
/// ```swift
/// let configuration = try StrictJSON.decode(UNetConfiguration.self, contentsOf: url)
/// ```
public enum StrictJSON {
    /// Why a document was refused: one line that names the place (byte offset or key path).
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        public let reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// The deepest nesting of objects and arrays accepted.
    public static let maximumDepth = 64

    /// `data` checked as described above, with Python's non-finite literals turned into the
    /// strings `JSONDecoder` reads through `.convertFromString`. Documents that no Python
    /// writes (edit plans, batch lines) pass `allowsNonFinite: false`: there `NaN` is refused,
    /// not turned into the string `"NaN"` that a text field would take.
    /// - Throws: ``Error`` naming the first problem and its byte offset.
    public static func normalized(_ data: Data, maximumDepth: Int = maximumDepth, allowsNonFinite: Bool = true) throws -> Data {
        var scanner = Scanner(bytes: [UInt8](data), maximumDepth: maximumDepth, allowsNonFinite: allowsNonFinite)
        try scanner.document()
        return scanner.replacements.isEmpty ? data : Data(scanner.rewritten())
    }

    /// Decodes `data` as `T` after ``normalized(_:maximumDepth:)``.
    /// - Throws: ``Error`` for a malformed document or a value of the wrong type (with its key
    ///   path); errors that `T`'s own decoder throws pass through.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let text = try normalized(data)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return try decoder.decode(T.self, from: text)
        } catch let error as DecodingError {
            throw Error(describe(error))
        }
    }

    /// Decodes the regular file `url` (at most `limit` bytes) as `T`.
    /// - Throws: ``Error`` for a missing, special, oversized or malformed file (the message does
    ///   not repeat the path: callers name the file in their own error).
    public static func decode<T: Decodable>(_ type: T.Type, contentsOf url: URL,
                                            limit: Int = InputFile.configurationLimit) throws -> T {
        let data: Data
        do { data = try InputFile.contents(of: url, limit: limit) } catch let error as InputFile.Error {
            throw Error(error.reason)
        }
        return try decode(type, from: data)
    }

    /// A one-line account of a decoding failure, naming the key path.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".").abbreviated()
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "no \"\(key.stringValue.abbreviated())\" key" + (parent.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let place = path(context)
            let what = context.debugDescription.abbreviated()
            return place.isEmpty ? what : "\(place): \(what)"
        @unknown default:
            return "\(error)".abbreviated()
        }
    }
}

/// A recursive-descent check of RFC 8259 syntax, bounded in depth. It records where Python's
/// non-finite literals stand so that they can be quoted.
private struct Scanner {
    let bytes: [UInt8]
    let maximumDepth: Int
    let allowsNonFinite: Bool
    var index = 0
    var depth = 0
    /// Byte ranges of `NaN`, `Infinity` and `-Infinity` tokens outside strings.
    var replacements: [Range<Int>] = []

    init(bytes: [UInt8], maximumDepth: Int, allowsNonFinite: Bool) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
        self.allowsNonFinite = allowsNonFinite
    }

    func fail(_ what: String) -> StrictJSON.Error {
        StrictJSON.Error(index < bytes.count ? "not plain JSON at byte \(index): \(what)" : "not plain JSON: the text ends early (\(what))")
    }

    mutating func document() throws {
        skipSpace()
        try value()
        skipSpace()
        guard index == bytes.count else { throw fail("unexpected text after the value") }
    }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func value() throws {
        guard index < bytes.count else { throw fail("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): try container(closing: UInt8(ascii: "}"), keyed: true)
        case UInt8(ascii: "["): try container(closing: UInt8(ascii: "]"), keyed: false)
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "N"): try nonFinite("NaN")
        case UInt8(ascii: "I"): try nonFinite("Infinity")
        case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "I"):
            try nonFinite("-Infinity")
        default: try number()
        }
    }

    mutating func container(closing: UInt8, keyed: Bool) throws {
        depth += 1
        guard depth <= maximumDepth else { throw fail("nested too deeply (more than \(maximumDepth) levels)") }
        index += 1
        skipSpace()
        var keys = Set<String>()
        if index < bytes.count, bytes[index] == closing {
            index += 1
            depth -= 1
            return
        }
        while true {
            if keyed {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                let keyStart = index
                let key = try string()
                guard keys.insert(key).inserted else {
                    index = keyStart
                    throw fail("the key \"\(key.abbreviated())\" appears twice in one object")
                }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                index += 1
                skipSpace()
            }
            try value()
            skipSpace()
            guard index < bytes.count else { throw fail("expected ',' or the end of the \(keyed ? "object" : "array")") }
            if bytes[index] == closing { break }
            guard bytes[index] == UInt8(ascii: ",") else { throw fail("expected ',' or the end of the \(keyed ? "object" : "array")") }
            index += 1
            skipSpace()
        }
        index += 1
        depth -= 1
    }

    /// Scans a string token and returns its text (escapes resolved only when there are any).
    mutating func string() throws -> String {
        let start = index
        index += 1
        var escaped = false
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20 else { throw fail("a control character inside a string") }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                index += 1
                guard index < bytes.count else { throw fail("unterminated string") }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    break
                case UInt8(ascii: "u"):
                    guard index + 4 < bytes.count, bytes[(index + 1)...(index + 4)].allSatisfy(\.isHexDigit) else {
                        throw fail("a \\u escape needs four hexadecimal digits")
                    }
                    index += 4
                default: throw fail("an unknown escape in a string")
                }
            }
            index += 1
        }
        index += 1
        let token = bytes[start..<index]
        guard let text = String(validating: token.dropFirst().dropLast(), as: UTF8.self) else {
            index = start
            throw fail("a string that is not UTF-8")
        }
        guard escaped else { return text }
        do { return try JSONDecoder().decode(String.self, from: Data(token)) } catch {
            index = start
            throw fail("a string with an invalid escape")
        }
    }

    mutating func literal(_ word: String) throws {
        let utf8 = Array(word.utf8)
        guard bytes.count - index >= utf8.count, Array(bytes[index..<(index + utf8.count)]) == utf8 else {
            throw fail("expected a value")
        }
        index += utf8.count
    }

    mutating func nonFinite(_ word: String) throws {
        guard allowsNonFinite else { throw fail("\(word) is not a JSON number") }
        let start = index
        try literal(word)
        replacements.append(start..<index)
    }

    mutating func number() throws {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, bytes[index].isDigit else {
            index = start
            throw fail("expected a value")
        }
        if bytes[index] == UInt8(ascii: "0") { index += 1 } else { skipDigits() }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, bytes[index].isDigit else { throw fail("a digit must follow '.'") }
            skipDigits()
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, bytes[index].isDigit else { throw fail("an exponent needs digits") }
            skipDigits()
        }
        // Only an exponent or more than 308 digits can pass Double's range (JSONDecoder would
        // refuse it later with a message that names no place).
        if index - start > 308 || bytes[start..<index].contains(where: { $0 | 0x20 == UInt8(ascii: "e") }) {
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard Double(text)?.isFinite == true else {
                index = start
                throw fail("the number \(text.abbreviated(to: 40)) is out of range")
            }
        }
    }

    mutating func skipDigits() {
        while index < bytes.count, bytes[index].isDigit { index += 1 }
    }

    /// The document with each recorded literal quoted.
    func rewritten() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 2 * replacements.count)
        var copied = 0
        for range in replacements {
            output += bytes[copied..<range.lowerBound]
            output.append(UInt8(ascii: "\""))
            output += bytes[range]
            output.append(UInt8(ascii: "\""))
            copied = range.upperBound
        }
        output += bytes[copied...]
        return output
    }
}

private extension UInt8 {
    var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
    var isHexDigit: Bool { isDigit || (self | 0x20 >= UInt8(ascii: "a") && self | 0x20 <= UInt8(ascii: "f")) }
}
