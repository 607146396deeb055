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
        // Replay in a folder of its own: the parent's file and the plan, nothing else.
        let folder = server.workFolder.appendingPathComponent("clips/\(clip)")
        let replay = try Fixtures.temporaryDirectory()
        for name in ["v0.wav", "v1.plan.json"] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: replay.appendingPathComponent(name))
        }
        let result = try CommandRunner.run("auffusion", ["edit", replay.appendingPathComponent("v1.plan.json").path,
                                                        "--model", server.modelFolder.path, "--seed", "\(seed)", "--quiet"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let served = try Data(contentsOf: folder.appendingPathComponent("v1.wav"))
        #expect(try Data(contentsOf: replay.appendingPathComponent("v1.wav")) == served)
        #expect(replayCommand == "auffusion edit v1.plan.json --seed \(seed)")
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

    @Test("the event stream pushes every step, then the final status")
    func progressEvents() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let job = try await client.submit(#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "a cat", "strength": 1, "steps": 5}"#)
            let text = try await client.execute(uri: "/api/jobs/\(job)/events", method: .get) { response in
                #expect(response.headers[.contentType] == "text/event-stream")
                return String(buffer: response.body)
            }
            let statuses = try text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
                #expect(event.hasPrefix("event: status\ndata: "))
                let data = Data(event.dropFirst("event: status\ndata: ".count).utf8)
                return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            }
            #expect(statuses.last?["state"] as? String == "done")
            let steps = statuses.compactMap { $0["state"] as? String == "running" ? $0["step"] as? Int : nil }
            // PNDM evaluates its warm-up timestep twice: 5 steps are 6 evaluations. The first status
            // may be a step already run; every later step is pushed, in order.
            let total = try #require(statuses.compactMap { $0["total"] as? Int }.first)
            #expect(total == 6)
            #expect(steps.last == total, "\(steps)")
            #expect(steps == Array((steps.first ?? 1)...total), "\(steps)")
            #expect(statuses.allSatisfy { ($0["total"] as? Int).map { $0 == total } ?? true })
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
            let (needsToken, rows) = try await client.execute(uri: "/api/info", method: .get) { response in
                let info = try object(response)
                return (info["needs_token"] as? Bool, (info["mel_frequencies"] as? [Double])?.count ?? 0)
            }
            #expect(needsToken == false)
            #expect(rows > 8)
        }
    }
}
