/// Up to six vectors of 8 lanes: the values a 1-D Winograd transform reads or writes along one
/// side of a tile (4 or 6 of them), for 8 tiles at a time, one per lane.
typealias WinogradLanes = InlineArray<6, SIMD8<Float>>

/// The 1-D transforms of one of Winograd's minimal filtering algorithms F(m, 3):
/// ``WinogradConvolution`` applies each along both sides of a tile (`Bᵀ d B`, `G g Gᵀ`, `Aᵀ p A`).
///
/// The matrices follow from the interpolation points (Lavin & Gray 2015, section 4): `Aᵀ` holds
/// their powers, `G` the kernel's polynomial at each point over the product of its distances to
/// the others, and ∞ adds the last row or column.
protocol WinogradTransforms {
    /// One row of 8 tiles' outputs side by side: `8 m` floats.
    associatedtype Row: SIMD where Row.Scalar == Float
    /// `m`, the outputs along one side of a tile; the tile reads `m + 2` inputs along it.
    static var outputSide: Int { get }
    /// `Bᵀ d`: `m + 2` values from `m + 2` inputs.
    @inline(__always)
    static func input(_ d: WinogradLanes) -> WinogradLanes
    /// `G g`: `m + 2` values from the kernel's 3 taps (the first 3 lanes of `g`).
    @inline(__always)
    static func filter(_ g: WinogradLanes) -> WinogradLanes
    /// `Aᵀ p`: `m` outputs from `m + 2` products.
    @inline(__always)
    static func output(_ p: WinogradLanes) -> WinogradLanes
}

/// F(2, 3) at the points 0, ±1 and ∞, Lavin & Gray's matrices: the transforms only add, subtract
/// and halve, so they round little (a few times the direct sum's error, docs/compute.md).
enum WinogradF2: WinogradTransforms {
    typealias Row = SIMD16<Float>
    static var outputSide: Int { 2 }

    /// `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]`.
    @inline(__always)
    static func input(_ d: WinogradLanes) -> WinogradLanes {
        var t = WinogradLanes(repeating: .zero)
        t[0] = d[0] - d[2]
        t[1] = d[1] + d[2]
        t[2] = d[2] - d[1]
        t[3] = d[1] - d[3]
        return t
    }

    /// `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`.
    @inline(__always)
    static func filter(_ g: WinogradLanes) -> WinogradLanes {
        var t = WinogradLanes(repeating: .zero)
        t[0] = g[0]
        t[1] = (g[0] + g[1] + g[2]) * 0.5
        t[2] = (g[0] - g[1] + g[2]) * 0.5
        t[3] = g[2]
        return t
    }

    /// `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]`.
    @inline(__always)
    static func output(_ p: WinogradLanes) -> WinogradLanes {
        var t = WinogradLanes(repeating: .zero)
        t[0] = p[0] + p[1] + p[2]
        t[1] = p[1] - p[2] - p[3]
        return t
    }
}

/// F(4, 3) at the points 0, ±a, ±b and ∞ with `a = 3/2`, `b = 2/3`.
///
/// Lavin & Gray's points 0, ±1, ±2 give float32 results about 45 times as far from the exact sum as
/// F(2, 3)'s; of the sets of five points from 0, ±½, ±⅔, ±1, ±3/2, ±2 these were the closest
/// (nmse 1.0e-12 to 1.4e-12 against 4.9e-12 to 7.0e-12 for Lavin & Gray's, in a float32 simulation
/// at the U-Net's sizes). Pairs of opposite points let each transform share its even and odd parts.
enum WinogradF4: WinogradTransforms {
    typealias Row = SIMD32<Float>
    static var outputSide: Int { 4 }

    // The points, their squares and their cubes.
    private static var a: Float { 3 / 2 }
    private static var b: Float { 2 / 3 }
    private static var aa: Float { 9 / 4 }
    private static var bb: Float { 4 / 9 }
    private static var aaa: Float { 27 / 8 }
    private static var bbb: Float { 8 / 27 }

    /// `Bᵀ = [[1, 0, −(a² + b²), 0, 1, 0], [0, −b, −b², a, 1, 0], [0, b, −b², −a, 1, 0],
    /// [0, −a, −a², b, 1, 0], [0, a, −a², −b, 1, 0], [0, 1, 0, −(a² + b²), 0, 1]]` (`a² + b² = 97/36`).
    @inline(__always)
    static func input(_ d: WinogradLanes) -> WinogradLanes {
        let squares: Float = 97 / 36
        let evenA = d[4] - bb * d[2], oddA = a * d[3] - b * d[1]
        let evenB = d[4] - aa * d[2], oddB = b * d[3] - a * d[1]
        var t = WinogradLanes(repeating: .zero)
        t[0] = d[0] - squares * d[2] + d[4]
        t[1] = evenA + oddA
        t[2] = evenA - oddA
        t[3] = evenB + oddB
        t[4] = evenB - oddB
        t[5] = d[1] - squares * d[3] + d[5]
        return t
    }

    /// `G` has rows `[1, 0, 0]`, `[1, ±p, p²] / (2p²(p² − q²))` for each point `p` (the other
    /// being `q`), and `[0, 0, 1]`: `8/65 · [1, ±a, a²]` and `−81/130 · [1, ±b, b²]`.
    @inline(__always)
    static func filter(_ g: WinogradLanes) -> WinogradLanes {
        let (scaleA, scaleB): (Float, Float) = (8 / 65, -81 / 130)
        let evenA = g[0] + aa * g[2], oddA = a * g[1]
        let evenB = g[0] + bb * g[2], oddB = b * g[1]
        var t = WinogradLanes(repeating: .zero)
        t[0] = g[0]
        t[1] = (evenA + oddA) * scaleA
        t[2] = (evenA - oddA) * scaleA
        t[3] = (evenB + oddB) * scaleB
        t[4] = (evenB - oddB) * scaleB
        t[5] = g[2]
        return t
    }

    /// `Aᵀ = [[1, 1, 1, 1, 1, 0], [0, a, −a, b, −b, 0], [0, a², a², b², b², 0], [0, a³, −a³, b³, −b³, 1]]`.
    @inline(__always)
    static func output(_ p: WinogradLanes) -> WinogradLanes {
        let sumA = p[1] + p[2], differenceA = p[1] - p[2]
        let sumB = p[3] + p[4], differenceB = p[3] - p[4]
        var t = WinogradLanes(repeating: .zero)
        t[0] = p[0] + sumA + sumB
        t[1] = a * differenceA + b * differenceB
        t[2] = aa * sumA + bb * sumB
        t[3] = aaa * differenceA + bbb * differenceB + p[5]
        return t
    }
}
