/// The NumPy 1.23 float64 range functions diffusers builds timestep lists and sigma tables with,
/// reproduced operation for operation so that the results agree bit for bit.
enum NumPyRanges {
    /// `np.linspace(start, stop, count)`: `i · ((stop − start)/(count − 1)) + start`, with the last
    /// element set to `stop` (numpy/core/function_base.py).
    static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { Double($0) * step + start }
        values[count - 1] = stop
        return values
    }

    /// `np.arange(start, stop, step)` for float64: ⌈(stop − start)/step⌉ values; NumPy fills them
    /// as `start + i·δ` with `δ = (start + step) − start`, not `step` itself.
    static func arange(_ start: Double, _ stop: Double, step: Double) -> [Double] {
        let count = Int(((stop - start) / step).rounded(.up))
        guard count > 0 else { return [] }
        let delta = (start + step) - start
        return (0..<count).map { $0 == 1 ? start + step : start + Double($0) * delta }
    }

    /// `np.interp(x, [0, 1, …, n−1], values)` for `x` within [0, n−1]: the linear interpolation
    /// `slope·(x − j) + values[j]`, exact at the knots (numpy/core/src/multiarray/compiled_base.c).
    static func interpolate(_ x: Double, knots values: [Float]) -> Double {
        let last = values.count - 1
        if x <= 0 { return Double(values[0]) }
        if x >= Double(last) { return Double(values[last]) }
        let j = Int(x.rounded(.down))
        if Double(j) == x { return Double(values[j]) }
        let slope = Double(values[j + 1]) - Double(values[j])   // ÷ (knot j+1 − knot j) = 1
        return slope * (x - Double(j)) + Double(values[j])
    }
}

extension Double {
    /// NumPy's `round`/`around` to an integer: halves go to the even neighbour.
    var roundedHalfToEven: Double { rounded(.toNearestOrEven) }
}
