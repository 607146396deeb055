import Compute
import Pipeline
import Testing

@Suite("LatentWindows: covering a long span with windows of the canvas and joining them")
struct LatentWindowsTests {
    @Test("a span no wider than the canvas is one window, and joining it changes nothing")
    func oneWindow() {
        let windows = LatentWindows(spanWidth: 32, windowWidth: 32)
        #expect(windows.offsets == [0] && !windows.isWindowed && windows.minimumOverlap == 0)
        let part = Tensor(shape: [1, 2, 1, 32], scalars: (0..<64).map(Float.init))
        #expect(windows.joined([part], join: .swap, step: 3).scalars == part.scalars)
    }

    @Test("windows start at 0, end flush with the span, overlap by at least a quarter window, and are as few as that allows",
          arguments: [(33, 32), (100, 32), (250, 32), (1000, 128), (129, 128), (5860, 128)])
    func coverage(span: Int, window: Int) {
        let windows = LatentWindows(spanWidth: span, windowWidth: window)
        #expect(windows.offsets.first == 0 && windows.offsets.last == span - window)
        #expect(windows.minimumOverlap >= window / 4, "\(windows.offsets)")
        // No fewer windows than the overlap asks for: one less would leave gaps or thinner overlaps.
        let fewer = windows.offsets.count - 1
        #expect(fewer == 0 || (span - window) > (fewer - 1) * (window - window / 4), "\(windows.offsets)")
    }

    @Test("joins: equal parts stay equal; the average is uniform; the crossfade goes linearly from one window to the next; the swap takes each overlap column from exactly one window, alternating every step")
    func joins() {
        let windows = LatentWindows(spanWidth: 12, windowWidth: 8)        // offsets 0 and 4: overlap 4…7
        #expect(windows.offsets == [0, 4])
        let ones = Tensor(shape: [2, 8], repeating: 1)
        for join in [nil, LatentWindows.Join.average, .crossfade, .swap] {
            #expect(windows.joined([ones, ones], join: join).scalars == [Float](repeating: 1, count: 24))
        }
        let a = Tensor(shape: [1, 8], repeating: 0), b = Tensor(shape: [1, 8], repeating: 1)
        #expect(windows.joined([a, b], join: .average).scalars == [0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1, 1, 1])
        #expect(windows.joined([a, b]).scalars == [0, 0, 0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1, 1, 1])
        #expect(windows.joined([a, b], join: .crossfade).scalars == windows.joined([a, b]).scalars)
        let even = windows.joined([a, b], join: .swap, step: 0).scalars, odd = windows.joined([a, b], join: .swap, step: 1).scalars
        #expect(even[4..<8].allSatisfy { $0 == 0 || $0 == 1 } && Set(even[4..<8]) == [0, 1])
        #expect(zip(even[4..<8], odd[4..<8]).allSatisfy { $0 + $1 == 1 })
        // A part on a finer grid (audio under latent columns) crossfades sample by sample.
        let fine = windows.joined([Tensor(shape: [1, 16], repeating: 0), Tensor(shape: [1, 16], repeating: 1)], scale: 2).scalars
        #expect(fine.count == 24 && fine[8] > 0 && fine[8] < fine[9] && fine[15] < 1 && fine[16] == 1)
    }
}
