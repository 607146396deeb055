/// 64-bit FNV-1a (Fowler, Noll, Vo): a fast hash that tells contents apart, for fingerprints
/// stored in files (inversions, batch manifests); not for security.
public struct FNV1a {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    }

    public mutating func add(_ text: String) { add(text.utf8) }

    /// The hash as 16 hexadecimal digits.
    public var hex: String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
