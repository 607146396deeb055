/// The reversible map between bytes and printable characters that byte-level BPE works on.
///
/// Port of transformers `bytes_to_unicode` (models/clip/tokenization_clip.py, the GPT-2 scheme):
/// the 188 printable bytes `!`…`~`, `¡`…`¬`, `®`…`ÿ` stand for themselves; the other 68 bytes
/// (controls, space, DEL, NBSP, soft hyphen), in increasing order, become U+0100, U+0101, ….
/// So the UTF-8 bytes of any text become a string of visible characters that never contains the
/// space the BPE code uses as a separator.
enum ByteLevelAlphabet {
    /// The character that stands for each byte, indexed by the byte.
    static let characters: [Unicode.Scalar] = {
        var result = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            let code = printable ? UInt32(byte) : next
            if !printable { next += 1 }
            result[byte] = Unicode.Scalar(code) ?? " "   // every code here is below U+0144
        }
        return result
    }()

    /// The byte each character stands for.
    static let bytes: [Unicode.Scalar: UInt8] = Dictionary(
        uniqueKeysWithValues: characters.enumerated().map { ($0.element, UInt8($0.offset)) })

    /// The characters standing for the UTF-8 bytes of `text`.
    static func encode(_ text: some Sequence<Unicode.Scalar>) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text {
            for byte in scalar.utf8 { result.append(characters[Int(byte)]) }
        }
        return String(result)
    }

    /// The bytes `text` stands for. A character outside the alphabet (only a foreign vocabulary
    /// could hold one) stands for its own UTF-8 bytes.
    static func decode(_ text: String) -> [UInt8] {
        var result: [UInt8] = []
        for scalar in text.unicodeScalars {
            if let byte = bytes[scalar] { result.append(byte) } else { result.append(contentsOf: String(scalar).utf8) }
        }
        return result
    }
}
