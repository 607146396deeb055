import AudioDSP
import Foundation
import Hummingbird
import Testing
import TestSupport

@Suite("auffusion serve: uploads, edits, versions and progress")
struct EditAPITests {
    @Test("an upload becomes version 0, kept byte for byte, with its spectrogram picture")
    func upload() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let versions = try await client.versions(of: clip)
            #expect(versions.count == 1)
            #expect(versions.first?["kind"] as? String == "upload")
            #expect(try await client.file("v0.wav", of: clip) == (try Data(contentsOf: TestServer.clip)))
            let png = try await client.file("v0.png", of: clip)
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        }
    }

    @Test("each edit kind makes a new version from its parent, whose plan `auffusion edit` replays to the same bytes",
          arguments: [
            #"{"kind": "fill", "prompt": "a siren", "ranges": [[0.1, 0.3]], "band": [500, 4000], "steps": 3, "seed": 7}"#,
            #"{"kind": "restyle", "prompt": "a cat meowing", "strength": 0.6, "steps": 4, "guidance": 5, "seed": 2}"#,
            #"{"kind": "swap", "source_prompt": "a dog barking", "prompt": "a cat barking", "steps": 3, "seed": 1}"#,
            #"{"kind": "reweight", "prompt": "a dog barking loudly", "weights": {"loudly": 2.5}, "steps": 3, "seed": 3}"#,
          ])
    func edit(_ body: String) async throws {
        let server = try TestServer()
        let (clip, seed, replayCommand) = try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let job = try await client.submit(String(body.dropLast()) + #", "clip": "\#(clip)"}"#)
            let status = try await client.wait(job)
            #expect(status["state"] as? String == "done", "\(status)")
            let version = try #require(try await client.versions(of: clip).last)
            #expect(version["number"] as? Int == 1)
            #expect(version["parent"] as? Int == 0)
            return (clip, try #require(version["seed"] as? Int), version["replay"] as? String)
        }
        try server.expectReplay(clip: clip, input: "v0.wav", version: "v1.wav", seed: seed)
        #expect(replayCommand == "auffusion edit v1.plan.json --seed \(seed)")
    }

    @Test("prompt edits of one version start from its DDIM inversion, made once: the second edit reads it (its steps are the edit's alone), and each plan records the inversion's settings, so `auffusion edit` replays it to the same bytes without the file")
    func inversionReused() async throws {
        let server = try TestServer()
        let (clip, plans, totals) = try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            var totals: [Int] = []
            for body in [#""kind": "swap", "source_prompt": "a dog barking", "prompt": "a cat barking", "steps": 4, "strength": 0.75, "seed": 5"#,
                         #""kind": "reweight", "prompt": "a dog barking", "weights": {"dog": 2}, "source_prompt": "a dog barking", "steps": 4, "strength": 0.75, "seed": 6"#] {
                let status = try await client.wait(try await client.submit("{\(body), \"clip\": \"\(clip)\", \"version\": 0}"))
                #expect(status["state"] as? String == "done", "\(status)")
                totals.append(try #require(status["total"] as? Int))
            }
            // Each plan's start, its string fields only ("strength" is a number).
            let starts = try await client.versions(of: clip).dropFirst().map { version in
                let start = ((version["plan"] as? [String: Any])?["passes"] as? [[String: Any]])?.first?["start"] as? [String: Any]
                return (start ?? [:]).compactMapValues { $0 as? String }
            }
            return (clip, starts, totals)
        }
        #expect(totals == [3 + 3, 3], "the first edit inverts 3 of 4 steps and edits 3; the second only edits")
        #expect(plans == Array(repeating: ["from": "inversion", "method": "ddim", "source_prompt": "a dog barking"], count: 2))
        #expect(FileManager.default.fileExists(atPath: server.workFolder.appendingPathComponent("clips/\(clip)/v0.ddim.inversion").path))
        try server.expectReplay(clip: clip, input: "v0.wav", version: "v1.wav", seed: 5)
        try server.expectReplay(clip: clip, input: "v0.wav", version: "v2.wav", seed: 6)
    }

    @Test("the start is a choice: SDEdit's for a swap, ZETA's DDPM inversion for a restyle; both replay to the same bytes",
          arguments: [
            (#"{"kind": "swap", "start": "sdedit", "source_prompt": "a dog barking", "prompt": "a cat barking", "steps": 3, "seed": 1}"#, "clip"),
            (#"{"kind": "restyle", "start": "ddpm", "source_prompt": "a dog barking", "prompt": "a cat meowing", "steps": 6, "seed": 2}"#, "inversion"),
          ])
    func startChoice(_ body: String, from: String) async throws {
        let server = try TestServer()
        let (clip, start) = try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let status = try await client.wait(try await client.submit(String(body.dropLast()) + #", "clip": "\#(clip)"}"#))
            #expect(status["state"] as? String == "done", "\(status)")
            let plan = try #require(try await client.versions(of: clip).last?["plan"] as? [String: Any])
            return (clip, ((plan["passes"] as? [[String: Any]])?.first?["start"] as? [String: Any])?["from"] as? String)
        }
        #expect(start == from)
        try server.expectReplay(clip: clip, input: "v0.wav", version: "v1.wav", seed: body.contains("ddpm") ? 2 : 1)
    }

    @Test("a clip longer than the canvas is edited whole: a fill goes into the file's own format (44.1 kHz stereo 24-bit), every sample outside it kept, and replays to the same bytes")
    func longClip() async throws {
        let server = try TestServer()
        let clip = try await server.test { client in
            let canvas = try await client.execute(uri: "/api/info", method: .get) { try #require(try object($0)["canvas_seconds"] as? Double) }
            let frames = Int(2.5 * canvas * 44_100)
            let left = (0..<frames).map { Float(0.3 * sin(2 * Double.pi * 220 * Double($0) / 44_100)) }
            let right = (0..<frames).map { Float(0.2 * sin(2 * Double.pi * 330 * Double($0) / 44_100)) }
            let long = try Fixtures.temporaryDirectory().appendingPathComponent("long.wav")
            try AudioFile.write(AudioBuffer(channels: [left, right], sampleRate: 44_100), to: long, encoding: .pcm24)
            let clip = try await client.upload(long, name: "long.wav")
            let (start, end) = (1.1 * canvas, 1.3 * canvas)
            let job = try await client.submit(#"{"kind": "fill", "clip": "\#(clip)", "prompt": "a siren", "ranges": [[\#(start), \#(end)]], "steps": 3, "seed": 9}"#)
            #expect(try await client.wait(job)["state"] as? String == "done")
            let version = try #require(try await client.versions(of: clip).last)
            #expect(version["sample_rate"] as? Double == 44_100 && version["channels"] as? Int == 2, "\(version)")
            let edited = try AudioFile.read(server.workFolder.appendingPathComponent("clips/\(clip)/v1.wav"))
            let input = try AudioFile.read(long)
            #expect(edited.frameCount == input.frameCount)
            // Outside the range and its 20 ms crossfades, the file is the input sample for sample.
            let margin = Int(0.021 * 44_100)
            let (first, last) = (Int(start * 44_100) - margin, Int(end * 44_100) + margin)
            for channel in 0..<2 {
                #expect(edited.channels[channel][..<first] == input.channels[channel][..<first])
                #expect(edited.channels[channel][last...] == input.channels[channel][last...])
                #expect(edited.channels[channel][first..<last] != input.channels[channel][first..<last])
            }
            return clip
        }
        try server.expectReplay(clip: clip, input: "v0.wav", version: "v1.wav", seed: 9)
    }

    @Test("a swap or reweight keeps the edited prompt's per-word attention heatmaps")
    func attentionMaps() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let job = try await client.submit(#"{"kind": "swap", "clip": "\#(clip)", "source_prompt": "a dog barking", "prompt": "a cat barking", "steps": 2}"#)
            #expect(try await client.wait(job)["state"] as? String == "done")
            let version = try #require(try await client.versions(of: clip).last)
            let maps = try #require(version["maps"] as? [[String: Any]])
            #expect(maps.compactMap { $0["word"] as? String } == ["a", "cat", "barking"])
            let picture = try #require(maps.first?["picture"] as? String)
            #expect(try await client.file("v1-maps/\(picture)", of: clip).starts(with: [0x89, 0x50, 0x4E, 0x47]))
            // A word outside ASCII: its picture's name is percent-encoded in the URL, as a browser sends it.
            let café = try await client.submit(#"{"kind": "reweight", "clip": "\#(clip)", "prompt": "un café bruyant", "weights": {"café": 2}, "steps": 2}"#)
            #expect(try await client.wait(café)["state"] as? String == "done")
            let named = try #require(try await client.versions(of: clip).last?["maps"] as? [[String: Any]])
            let cafePicture = try #require(named.first { $0["word"] as? String == "café" }?["picture"] as? String)
            let encoded = try #require(cafePicture.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed))
            #expect(encoded != cafePicture)
            for uri in ["/api/clips/\(clip)/files/v2-maps/\(encoded)", "/api/clips/\(clip)/files/v2-maps%2F\(encoded)"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok && response.headers[.contentType] == "image/png", "\(uri): \(response.status)")
                }
            }
            for uri in ["/api/clips/\(clip)/files//v0.png", "/api/clips/\(clip)/files/v0.png/"] {
                try await client.execute(uri: uri, method: .get) { response in #expect(response.status == .notFound, "\(uri)") }
            }
        }
    }

    @Test("a generation makes a new clip; an edit of an edit chains versions")
    func generateAndChain() async throws {
        let server = try TestServer()
        try await server.test { client in
            let job = try await client.submit(#"{"kind": "generate", "prompt": "a beep", "steps": 3, "seed": 4}"#)
            let status = try await client.wait(job)
            let clip = try #require(status["clip"] as? String)
            #expect(status["version"] as? Int == 0)
            let next = try await client.submit(#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "noise", "steps": 3}"#)
            #expect(try await client.wait(next)["state"] as? String == "done")
            let versions = try await client.versions(of: clip)
            #expect(versions.map { $0["kind"] as? String } == ["generate", "restyle"])
            #expect(versions.last?["parent"] as? Int == 0)
            #expect(versions.first?["plan"] != nil)
        }
    }

    @Test("the event stream pushes every step and the stages around them (encoding, decoding, vocoding), then the final status")
    func progressEvents() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            // The job waits behind a long one until its stream has begun, so no step goes unseen.
            let blocker = try await client.submit(#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "a dog", "strength": 1, "steps": 999}"#)
            let job = try await client.submit(#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "a cat", "strength": 1, "steps": 5}"#)
            var waiting = true
            let response = try await client.stream("/api/jobs/\(job)/events") { _ in
                if waiting { try await client.execute(uri: "/api/jobs/\(blocker)", method: .delete) }
                waiting = false
            }
            #expect(response.headers[.contentType] == "text/event-stream")
            let text = String(buffer: response.body)
            let statuses = try text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
                #expect(event.hasPrefix("event: status\ndata: "))
                let data = Data(event.dropFirst("event: status\ndata: ".count).utf8)
                return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            }
            #expect(statuses.first?["state"] as? String == "queued")
            #expect(statuses.last?["state"] as? String == "done")
            let steps = statuses.compactMap { $0["state"] as? String == "running" && $0["stage"] == nil ? $0["step"] as? Int : nil }
            // PNDM evaluates its warm-up timestep twice: 5 steps are 6 evaluations, each pushed, in order.
            let total = try #require(statuses.compactMap { $0["total"] as? Int }.first)
            #expect(total == 6)
            #expect(steps == Array(1...total), "\(steps)")
            #expect(statuses.allSatisfy { ($0["total"] as? Int).map { $0 == total } ?? true })
            // Around the steps, the clip's encoding and the result's decoding and vocoding.
            let stages = statuses.compactMap { $0["stage"] as? String }.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
            #expect(stages == ["encoding", "decoding", "vocoding"], "\(stages)")
            // A finished job's stream gives its final status at once.
            let again = try await client.execute(uri: "/api/jobs/\(job)/events", method: .get) { String(buffer: $0.body) }
            #expect(again.contains(#""state":"done""#))
        }
    }

    @Test("the words of a prompt, as the tokenizer splits them, for the reweight sliders")
    func words() async throws {
        let server = try TestServer()
        try await server.test { client in
            let words = try await client.execute(uri: "/api/tokens?prompt=a%20dog%20barking", method: .get) { try object($0)["words"] as? [String] }
            #expect(words == ["a", "dog", "barking"])
            // Words past the text encoder's 77 tokens cannot be reweighted, so they are not offered.
            let long = (Array(repeating: "ab", count: 80) + ["zebra"]).joined(separator: "%20")
            let offered = try await client.execute(uri: "/api/tokens?prompt=\(long)", method: .get) { try object($0)["words"] as? [String] }
            #expect(offered?.contains("zebra") == false && offered?.isEmpty == false)
            let (needsToken, rows, guidance) = try await client.execute(uri: "/api/info", method: .get) { response in
                let info = try object(response)
                return (info["needs_token"] as? Bool, (info["mel_frequencies"] as? [Double])?.count ?? 0, info["edit_guidance"] as? [String: Double])
            }
            #expect(needsToken == false)
            let maximum = try await client.execute(uri: "/api/info", method: .get) { try object($0)["max_steps"] as? Int }
            let steps = try #require(maximum)
            #expect(steps > 1 && steps <= 1000)
            for (count, accepted) in [(steps, true), (steps + 1, false)] {
                try await client.execute(uri: "/api/jobs", method: .post,
                                         body: json(#"{"kind": "generate", "prompt": "a beep", "steps": \#(count)}"#)) { response in
                    #expect((response.status == .accepted) == accepted, "\(count) steps: \(response.status)")
                }
            }
            #expect(rows > 8)
            #expect(guidance == ["sdedit": 7.5, "inversion": 7.5, "ddpm": 12], "each start's edit guidance, ZETA's 12 for a DDPM restyle")
        }
    }
}
