import Editing
import Testing

@Suite("How times, ranges, word weights and replacement bounds are written (command line, batch lines, server)")
struct NotationTests {
    @Test("seconds: a finite number, or whole minutes and seconds below 60")
    func seconds() {
        #expect(Seconds(parsing: "12.5") == Seconds(12.5))
        #expect(Seconds(parsing: "-0.5") == Seconds(-0.5))
        #expect(Seconds(parsing: "1:02.5") == Seconds(62.5))
        #expect(Seconds(parsing: "10:00") == Seconds(600))
        #expect(Seconds(parsing: "0:59.9")?.value == 59.9)
        for bad in ["", "abc", "inf", "nan", "1:60", "1:-1", "-1:30", "1.5:00", "1:2:3", ":30", "1:"] {
            #expect(Seconds(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("ranges: LO-HI or START+LENGTH, numbers or times")
    func ranges() throws {
        #expect(try NumberRange(parsing: "1.5-3") == NumberRange(1.5..<3))
        #expect(try NumberRange(parsing: "2000-4000") == NumberRange(2000..<4000))
        #expect(try NumberRange(parsing: "1+0.5") == NumberRange(1..<1.5))
        #expect(try NumberRange(parsing: "1:00-1:02.5", ends: .times) == NumberRange(60..<62.5))
        #expect(try NumberRange(parsing: "1:00+4.5", ends: .times) == NumberRange(60..<64.5))
        #expect(throws: NumberRangeError.malformed("1:00-1:02")) { try NumberRange(parsing: "1:00-1:02") }
        #expect(throws: NumberRangeError.malformed("3")) { try NumberRange(parsing: "3") }
        #expect(throws: NumberRangeError.malformed("a-b")) { try NumberRange(parsing: "a-b", ends: .times) }
        #expect(throws: NumberRangeError.startsBelowZero("-1+2")) { try NumberRange(parsing: "-1+2") }
        #expect(throws: NumberRangeError.empty("1.5-1.0")) { try NumberRange(parsing: "1.5-1.0") }
        #expect(throws: NumberRangeError.empty("2+0")) { try NumberRange(parsing: "2+0") }
        #expect("\(NumberRangeError.empty("2-1"))" == "2-1 is empty: the end must come after the start")
    }

    @Test("WORD=FACTOR splits at the last =, takes any finite factor and needs a word")
    func wordWeights() {
        #expect(WordWeight(parsing: "rain=2") == WordWeight(word: "rain", factor: 2))
        #expect(WordWeight(parsing: "dog=-0.5") == WordWeight(word: "dog", factor: -0.5))
        #expect(WordWeight(parsing: "a=b=0") == WordWeight(word: "a=b", factor: 0))
        for bad in ["rain", "=2", "rain=", "rain=x", "rain=inf", "rain=nan"] {
            #expect(WordWeight(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("WORD=END or WORD=START-END, an exponent's minus not taken for the separator")
    func replaceBounds() {
        #expect(WordReplaceBounds(parsing: "cat=0.4") == WordReplaceBounds(word: "cat", start: 0, end: 0.4))
        #expect(WordReplaceBounds(parsing: "cat=0.2-0.6") == WordReplaceBounds(word: "cat", start: 0.2, end: 0.6))
        #expect(WordReplaceBounds(parsing: "cat=1e-3-0.5") == WordReplaceBounds(word: "cat", start: 0.001, end: 0.5))
        #expect(WordReplaceBounds(parsing: "cat=-0.1") == WordReplaceBounds(word: "cat", start: 0, end: -0.1))
        for bad in ["cat", "=0.4", "cat=", "cat=a-b", "cat=0.2-"] {
            #expect(WordReplaceBounds(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test("a schedule from fractions names the value at fault, the words first")
    func schedule() throws {
        let schedule = try ReplaceSchedule(crossEnd: 0.8, words: [WordReplaceBounds(word: "cat", start: 0.2, end: 0.6)], selfEnd: 0.4)
        #expect(schedule == ReplaceSchedule(cross: 0...0.8, crossWords: ["cat": 0.2...0.6], self: 0...0.4))
        let cat = WordReplaceBounds(word: "cat", end: 0.5)
        #expect(throws: ReplaceScheduleError.wordNamedTwice("cat")) {
            try ReplaceSchedule(crossEnd: 2, words: [cat, cat], selfEnd: 0.4)
        }
        let reason = "fractions must lie in [0, 1] with the start before the end, got 0.0-2.0"
        #expect(throws: ReplaceScheduleError.invalidBounds(.cross, reason: reason)) {
            try ReplaceSchedule(crossEnd: 2, words: [], selfEnd: 2)
        }
        #expect(throws: ReplaceScheduleError.invalidBounds(.selfAttention, reason: reason)) {
            try ReplaceSchedule(crossEnd: 0.8, words: [], selfEnd: 2)
        }
        #expect(throws: ReplaceScheduleError.invalidBounds(.word("cat"), reason: "fractions must lie in [0, 1] with the start before the end, got 0.6-0.2")) {
            try ReplaceSchedule(crossEnd: 2, words: [WordReplaceBounds(word: "cat", start: 0.6, end: 0.2)], selfEnd: 0.4)
        }
    }
}
