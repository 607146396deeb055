import Foundation

/// Analysis windows.
public enum Window {
    /// The periodic Hann window `w[n] = 0.5 − 0.5·cos(2πn/N)`, n = 0…N−1, as
    /// `torch.hann_window(N)` (periodic=True), computed in double precision.
    public static func periodicHann(length: Int) -> [Float] {
        (0..<length).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(length))) }
    }

    /// A window of `length` samples zero-padded symmetrically to `frameLength`, as `torch.stft`
    /// does when `win_length < n_fft` (left padding `(frameLength − length) / 2`).
    public static func centered(_ window: [Float], in frameLength: Int) -> [Float] {
        precondition(window.count <= frameLength, "Window: longer than the frame")
        let left = (frameLength - window.count) / 2
        var framed = [Float](repeating: 0, count: frameLength)
        framed.replaceSubrange(left..<left + window.count, with: window)
        return framed
    }
}
