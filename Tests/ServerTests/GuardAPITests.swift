import AudioDSP
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import Server
import Testing
import TestSupport

@Suite("auffusion serve: the queue, cancellation, limits and access")
struct GuardAPITests {
    /// A long restyle (900 steps of 50 ms: 45 s) to keep the worker busy; every test cancels it.
    private func longJob(_ clip: String, steps: Int = 900) -> String {
        #"{"kind": "restyle", "clip": "\#(clip)", "prompt": "a cat", "strength": 1, "steps": \#(steps)}"#
    }

    @Test("one job runs at a time; the others wait with their positions; a full queue refuses with 429")
    func queue() async throws {
        let server = try TestServer { $0.maximumQueuedJobs = 2 }
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let running = try await client.submit(longJob(clip))
            // The worker must have taken the first job before two more fill the queue of two:
            // on a loaded machine it may not have started yet when they arrive.
            let deadline = Date().addingTimeInterval(30)
            while try await client.status(running)["state"] as? String == "queued", Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
            let second = try await client.submit(longJob(clip))
            let third = try await client.submit(longJob(clip))
            #expect(try await client.status(running)["state"] as? String == "running")
            #expect(try await client.status(second)["position"] as? Int == 1)
            #expect(try await client.status(third)["position"] as? Int == 2)
            try await client.execute(uri: "/api/jobs", method: .post, body: json(longJob(clip))) { response in
                #expect(response.status == .tooManyRequests)
                #expect(errorMessage(response).contains("the queue is full"))
            }
            // Cancelling the waiting job moves the one behind it up, and it never runs.
            _ = try await client.execute(uri: "/api/jobs/\(second)", method: .delete)
            #expect(try await client.status(second)["state"] as? String == "cancelled")
            #expect(try await client.status(third)["position"] as? Int == 1)
            for job in [running, third] { _ = try await client.execute(uri: "/api/jobs/\(job)", method: .delete) }
            #expect(try await client.wait(running)["state"] as? String == "cancelled")
            #expect(try await client.wait(third)["state"] as? String == "cancelled")
            #expect(try await client.versions(of: clip).count == 1)
        }
    }

    @Test("with no waiting room (--max-queue 0) a job is taken when none runs; a generation the queue refuses leaves no clip behind")
    func noWaitingRoom() async throws {
        let server = try TestServer { $0.maximumQueuedJobs = 0 }
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let running = try await client.submit(longJob(clip))
            let clips = { try FileManager.default.contentsOfDirectory(atPath: server.workFolder.appendingPathComponent("clips").path).count }
            let before = try clips()
            try await client.execute(uri: "/api/jobs", method: .post, body: json(#"{"kind": "generate", "prompt": "a beep", "steps": 2}"#)) { response in
                #expect(response.status == .tooManyRequests)
            }
            #expect(try clips() == before, "the refused generation's clip is gone")
            _ = try await client.execute(uri: "/api/jobs/\(running)", method: .delete)
            #expect(try await client.wait(running)["state"] as? String == "cancelled")
        }
    }

    @Test("cancel stops the running job within a step, and the server goes on to the next job")
    func cancel() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let job = try await client.submit(longJob(clip))
            var status: [String: Any] = [:]
            let deadline = Date().addingTimeInterval(30)
            repeat {
                try await Task.sleep(for: .milliseconds(5))
                status = try await client.status(job)
            } while (status["step"] as? Int ?? 0) < 3 && status["state"] as? String != "failed" && Date() < deadline
            #expect(status["state"] as? String == "running", "\(status)")
            let stepAtCancel = try await client.execute(uri: "/api/jobs/\(job)", method: .delete) { try object($0)["step"] as? Int ?? 0 }
            let final = try await client.wait(job, timeout: 30)
            #expect(final["state"] as? String == "cancelled")
            // The step running when the cancel arrived finishes; no other starts.
            #expect((final["step"] as? Int ?? .max) <= stepAtCancel + 1, "\(final), cancelled at step \(stepAtCancel)")
            let next = try await client.submit(#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "a cat", "steps": 2}"#)
            #expect(try await client.wait(next)["state"] as? String == "done")
        }
    }

    @Test("a long clip's job reports the work around its steps (encoding, decoding, vocoding: window by window) and is cancelled there too")
    func cancelWhileRendering() async throws {
        let server = try TestServer()
        let long = try Fixtures.temporaryDirectory().appendingPathComponent("long.wav")
        let samples = (0..<(180 * 16_000)).map { Float(0.3 * sin(2 * .pi * 255 * Double($0) / 16_000)) }
        try AudioFile.write(AudioBuffer(mono: samples, sampleRate: 16_000), to: long)
        try await server.test { client in
            let clip = try await client.upload(long)
            let job = try await client.submit(#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "white noise", "steps": 2}"#)
            // The event stream pushes the first status of every stage: the cancel goes out as decoding
            // begins, and lands in the decoding or the vocoding (of a 3-minute clip, in windows).
            var text = "", cancelSent = false
            _ = try await client.stream("/api/jobs/\(job)/events") { chunk in
                text += String(buffer: chunk)
                guard !cancelSent, text.contains(#""stage":"decoding""#) else { return }
                cancelSent = true
                _ = try await client.execute(uri: "/api/jobs/\(job)", method: .delete)
            }
            let statuses = text.components(separatedBy: "\n\n").compactMap { event in
                event.range(of: "data: ").flatMap { try? JSONSerialization.jsonObject(with: Data(event[$0.upperBound...].utf8)) as? [String: Any] }
            }
            let stages = statuses.compactMap { $0["stage"] as? String }.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
            #expect(stages.first == "encoding" && stages.contains("decoding"), "\(stages)")
            for status in statuses where status["stage"] != nil {
                let (done, total) = (status["stage_done"] as? Int ?? 0, status["stage_total"] as? Int ?? 0)
                #expect(done >= 1 && done <= total && status["seconds_left"] != nil, "\(status)")
            }
            let final = try await client.wait(job, timeout: 30)
            #expect(final["state"] as? String == "cancelled" && final["stage"] == nil, "\(final)")
            #expect(try await client.versions(of: clip).count == 1, "a cancelled job adds no version")
        }
    }

    @Test("a job that would fail is refused at submit with the reason; one that fails while running reports why, and the server keeps serving")
    func failedJob() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let refused: [(String, String)] = [
                (#"{"kind": "reweight", "clip": "\#(clip)", "prompt": "a dog", "weights": {"cat": 2}, "steps": 2}"#, "cat"),
                (#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "a cat", "steps": 0}"#, "steps"),
                (#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "a cat", "steps": 100000}"#, "step count"),
                (#"{"kind": "restyle", "clip": "\#(clip)", "prompt": " ", "steps": 2}"#, "prompt"),
            ]
            for (body, reason) in refused {
                try await client.execute(uri: "/api/jobs", method: .post, body: json(body)) { response in
                    #expect(response.status == .badRequest, "\(body): \(response.status)")
                    #expect(errorMessage(response).contains(reason), "\(errorMessage(response))")
                }
            }
            // This one fails while running: its clip's file is gone when the worker reaches it.
            let blocker = try await client.submit(longJob(clip))
            let doomed = try await client.submit(#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "a cat", "steps": 2}"#)
            try FileManager.default.removeItem(at: server.workFolder.appendingPathComponent("clips/\(clip)/v0.wav"))
            _ = try await client.execute(uri: "/api/jobs/\(blocker)", method: .delete)
            let status = try await client.wait(doomed)
            #expect(status["state"] as? String == "failed" && !(status["error"] as? String ?? "").isEmpty, "\(status)")
            let other = try await client.upload(TestServer.clip)
            let next = try await client.submit(#"{"kind": "restyle", "clip": "\#(other)", "prompt": "a cat", "steps": 2}"#)
            #expect(try await client.wait(next)["state"] as? String == "done")
        }
    }

    @Test("uploads over the size or duration limit, empty or corrupt, are refused with a message")
    func uploadLimits() async throws {
        let server = try TestServer { configuration in
            configuration.maximumUploadBytes = 12_000
            configuration.maximumUploadSeconds = 0.25
        }
        try await server.test { client in
            let clip = try Data(contentsOf: TestServer.clip)   // 0.5 s, 16 044 bytes
            // 0.2 s of 8-channel 48 kHz silence: a few hundred bytes of FLAC, 307 KB decoded, past
            // 0.25 s of 48 kHz stereo (96 KB).
            let wide = server.workFolder.deletingLastPathComponent().appendingPathComponent("wide.flac")
            try AudioFile.write(AudioBuffer(channels: Array(repeating: [Float](repeating: 0, count: 9_600), count: 8), sampleRate: 48_000),
                                to: wide, encoding: .pcm16)
            let cases: [(Data, HTTPResponse.Status, String)] = [
                (try Data(contentsOf: wide), .contentTooLarge, "decoded, the clip would take more than this server's 0.096 MB per clip"),
                (clip, .contentTooLarge, "larger than this server's limit"),
                (Data(clip.prefix(10_044)), .contentTooLarge, "longer than this server's limit of 0.25 s"),
                (Data(), .badRequest, "the upload is empty"),
                (Data("this is not audio, just text pretending to be a wav file".utf8), .unprocessableContent, "not audio"),
                (Data(clip.prefix(44)) + Data(repeating: 0xFF, count: 3), .unprocessableContent, "cannot be analysed"),
            ]
            for (data, status, message) in cases {
                try await client.execute(uri: "/api/clips?name=x.wav", method: .post, body: ByteBuffer(bytes: data)) { response in
                    #expect(response.status == status, "\(errorMessage(response))")
                    #expect(errorMessage(response).contains(message), "\(errorMessage(response))")
                }
            }
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: server.workFolder.appendingPathComponent("incoming").path)
        #expect(left.isEmpty)
    }

    @Test("an upload is stored as what its bytes are, whatever its name says")
    func uploadContainer() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip, name: "named.flac")   // WAV bytes
            let format = try await client.execute(uri: "/api/clips/\(clip)", method: .get) { try object($0)["format"] as? String }
            #expect(format == "wav")
            try await client.execute(uri: "/api/clips/\(clip)/files/v0.wav", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "audio/wav", "\(response.headers)")
            }
            // A container the toolkit does not write (Sun AU, 16-bit) is kept as WAV in its own sample format.
            let samples = (0..<8000).map { Int16(truncatingIfNeeded: $0 * 7 % 20000 - 10000) }
            var au = Data(".snd".utf8)
            for field in [UInt32(24), UInt32(samples.count * 2), 3, 16000, 1] { withUnsafeBytes(of: field.bigEndian) { au.append(contentsOf: $0) } }
            for sample in samples { withUnsafeBytes(of: sample.bigEndian) { au.append(contentsOf: $0) } }
            let file = try Fixtures.temporaryDirectory().appendingPathComponent("tone.au")
            try au.write(to: file)
            let sun = try await client.upload(file, name: "tone.au")
            let stored = server.workFolder.appendingPathComponent("clips/\(sun)/v0.wav")
            #expect(try AudioReader(stored).format.encoding == .pcm16)
            #expect(try AudioFile.read(stored).channels[0] == AudioFile.read(file).channels[0])
        }
    }

    @Test("no request reaches a file outside the work folder or one the server did not write")
    func pathEscapes() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let attempts = [
                "/api/clips/\(clip)/files/../../../../etc/passwd", "/api/clips/\(clip)/files/%2e%2e/%2e%2e/etc/passwd",
                "/api/clips/\(clip)/files/v0.wav/../../x", "/api/clips/..%2F..%2Fetc/files/passwd", "/api/clips/\(clip)/files//etc/passwd",
                "/api/clips/\(clip)/files/incoming", "/api/clips/\(clip)/files/v9.wav", "/api/clips/../clips/\(clip)",
                "/%2e%2e/%2e%2e/etc/passwd", "/../Package.swift",
                "/api/clips/\(clip)/files/v0.plan.json",   // a name versions may have, which an upload has not
            ]
            for uri in attempts {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri): \(response.status)")
                    #expect(!String(buffer: response.body).contains("root:") && !String(buffer: response.body).contains("NSFilePath"), "\(uri)")
                }
            }
            try await client.execute(uri: "/api/jobs", method: .post,
                                     body: json(#"{"kind": "restyle", "clip": "../../etc", "prompt": "a cat"}"#)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("malformed, unknown or mistyped JSON gets a 400 that says what to fix")
    func malformedJSON() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let cases: [(String, String)] = [
                ("{not json", "not valid JSON"),
                ("[1, 2]", "must be a JSON object"),
                (#"{"kind": "fill", "prompt": "x", "clip": "\#(clip)", "strenght": 1}"#, "unknown key \"strenght\""),
                (#"{"kind": "fill", "prompt": "x", "clip": "\#(clip)", "steps": "many"}"#, "\"steps\" has the wrong type"),
                (#"{"kind": "blend", "prompt": "x"}"#, "kind"),
                (#"{"prompt": "x"}"#, "\"kind\" is missing"),
                (#"{"kind": "fill", "prompt": "x", "clip": "\#(clip)"}"#, "give \"ranges\""),
                (#"{"kind": "fill", "prompt": "x", "clip": "\#(clip)", "ranges": [[0.3, 0.2]]}"#, "mask.ranges"),
                (#"{"kind": "restyle", "prompt": "x", "clip": "\#(clip)", "strength": 2}"#, "strength"),
                (#"{"kind": "swap", "prompt": "a cat", "clip": "\#(clip)"}"#, "source_prompt"),
                (#"{"kind": "swap", "prompt": "a cat", "source_prompt": "a dog", "clip": "\#(clip)", "start": "ddpm"}"#, "\"inversion\" or \"sdedit\""),
                (#"{"kind": "restyle", "prompt": "x", "clip": "\#(clip)", "start": "inversion"}"#, "\"sdedit\" or \"ddpm\""),
                (#"{"kind": "fill", "prompt": "x", "clip": "\#(clip)", "ranges": [[0.1, 0.2]], "start": "sdedit"}"#, "\"start\" is for"),
                (#"{"kind": "restyle", "prompt": "x", "clip": "\#(clip)", "source_prompt": "y"}"#, "ddpm inversion"),
                (#"{"kind": "restyle", "prompt": "x"}"#, "give \"clip\""),
                (#"{"kind": "restyle", "prompt": "x", "clip": "\#(clip)", "version": 5}"#, "versions 0…0"),
                (#"{"kind": "restyle", "prompt": "x", "clip": "\#(clip)", "steps": 2.5}"#, "\"steps\" must be a whole number, got 2.5"),
                (#"{"kind": "restyle", "prompt": "x", "clip": "\#(clip)", "steps": 99999999999999999999}"#, "\"steps\" must be a whole number"),
                (#"{"kind": "restyle", "prompt": "x", "clip": "\#(clip)", "seed": -1}"#, "\"seed\" must be a whole number from 0"),
                (#"{"kind": "restyle", "prompt": "x", "clip": "\#(clip)", "version": 0.5}"#, "\"version\" must be a whole number"),
            ]
            for (body, message) in cases {
                try await client.execute(uri: "/api/jobs", method: .post, body: json(body)) { response in
                    #expect(response.status == .badRequest || response.status == .notFound, "\(body)")
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                    #expect(errorMessage(response).contains(message), "\(body): \(errorMessage(response))")
                }
            }
            try await client.execute(uri: "/api/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorMessage(response).contains("no such page or API route"))
            }
        }
    }

    @Test("a file is served in byte ranges (206, Content-Range; 416 past the end), as an audio element needs to seek; other Range headers get the whole file")
    func byteRanges() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let uri = "/api/clips/\(clip)/files/v0.wav"
            let whole = try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok && response.headers[.acceptRanges] == "bytes")
                return Data(response.body.readableBytesView)
            }
            let count = whole.count
            let cases: [(String, HTTPResponse.Status, Range<Int>?)] = [
                ("bytes=100-199", .partialContent, 100..<200), ("bytes=\(count - 10)-", .partialContent, (count - 10)..<count),
                ("bytes=-16", .partialContent, (count - 16)..<count), ("bytes=0-\(count * 2)", .partialContent, 0..<count),
                ("bytes=\(count)-", .rangeNotSatisfiable, nil), ("bytes=5-2", .ok, 0..<count), ("bytes=0-1,4-5", .ok, 0..<count),
                ("items=0-1", .ok, 0..<count), ("bytes=x-1", .ok, 0..<count),
                // Numbers past Int: a start lies past the end, an end or a suffix covers the rest.
                ("bytes=99999999999999999999-", .rangeNotSatisfiable, nil), ("bytes=99999999999999999999-5", .ok, 0..<count),
                ("bytes=10-99999999999999999999", .partialContent, 10..<count), ("bytes=-99999999999999999999", .partialContent, 0..<count),
                ("bytes=-", .ok, 0..<count),
            ]
            for (range, status, bytes) in cases {
                try await client.execute(uri: uri, method: .get, headers: [.range: range]) { response in
                    #expect(response.status == status, "\(range): \(response.status)")
                    if let bytes {
                        #expect(Data(response.body.readableBytesView) == whole[bytes], "\(range)")
                        if status == .partialContent {
                            #expect(response.headers[.contentRange] == "bytes \(bytes.lowerBound)-\(bytes.upperBound - 1)/\(count)", "\(range)")
                        }
                    } else {
                        #expect(response.headers[.contentRange] == "bytes */\(count)")
                        #expect(errorMessage(response).contains("past the end"), "\(range): every error is JSON")
                    }
                }
            }
            // HEAD ignores Range (RFC 9110, 14.2): the whole file's headers.
            try await client.execute(uri: uri, method: .head, headers: [.range: "bytes=0-9"]) { response in
                #expect(response.status == .ok && response.headers[.contentLength] == "\(count)")
            }
        }
    }

    @Test("a known path asked with another method is 405 with the methods it answers (HEAD wherever GET); an unknown one stays 404")
    func wrongMethod() async throws {
        let server = try TestServer()
        try await server.test { client in
            let cases: [(String, HTTPRequest.Method, String)] = [
                ("/api/info", .post, "GET, HEAD"), ("/api/clips", .get, "POST"), ("/api/jobs", .delete, "POST, GET, HEAD"),
                ("/api/jobs/j1", .put, "GET, HEAD, DELETE"), ("/api/jobs/j1/events", .post, "GET, HEAD"),
                ("/api/clips/c1/files/v0.wav", .delete, "GET, HEAD"), ("/", .post, "GET, HEAD"), ("//api//info", .patch, "GET, HEAD"),
            ]
            for (uri, method, allow) in cases {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri): \(response.status)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                    #expect(errorMessage(response).contains("answers \(allow), not \(method.rawValue)"), "\(errorMessage(response))")
                }
            }
            try await client.execute(uri: "/api/info", method: .head) { response in
                #expect(response.status == .ok && response.body.readableBytes == 0)
            }
            for (uri, method) in [("/no-such-file.js", HTTPRequest.Method.get), ("/no-such-file.js", .post), ("/api/jobs/j1/other", .get)] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .notFound, "\(method) \(uri): \(response.status)")
                    #expect(response.headers[.allow] == nil)
                }
            }
        }
    }

    @Test("with a token, every API call must carry it; the page itself needs none")
    func token() async throws {
        let token = "0123456789abcdef0123"
        let server = try TestServer { $0.token = token }
        try await server.test { client in
            try await client.execute(uri: "/api/info", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(errorMessage(response).contains("needs its token"))
            }
            try await client.execute(uri: "/api/info", method: .get, headers: [.authorization: "Bearer wrong-token-000000"]) { response in
                #expect(response.status == .unauthorized)
                #expect(errorMessage(response).contains("the token is wrong"))
            }
            for scheme in ["Bearer", "bearer", "BEARER"] {
                try await client.execute(uri: "/api/info", method: .get, headers: [.authorization: "\(scheme) \(token)"]) { response in
                    #expect(response.status == .ok, "\(scheme)")
                }
            }
            try await client.execute(uri: "/api/info?token=\(token)", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("<canvas id=\"spectrogram\""))
            }
            let clip = try await client.upload(TestServer.clip, headers: [.authorization: "Bearer \(token)"])
            try await client.execute(uri: "/api/clips/\(clip)/files/v0.wav", method: .get) { #expect($0.status == .unauthorized) }
            // However the path is spelt: the router reads `//api/info` as `/api/info`.
            for path in ["//api/info", "/api//info", "///api/jobs", "/%61pi/info"] {
                try await client.execute(uri: path, method: .get) { #expect($0.status == .unauthorized, "\(path): \($0.status)") }
            }
        }
    }

    @Test("other origins and hosts are refused, and no CORS header is sent")
    func origins() async throws {
        let server = try TestServer()
        try await server.test { client in
            try await client.execute(uri: "/api/jobs", method: .post, headers: [.origin: "http://evil.example"],
                                     body: json(#"{"kind": "generate", "prompt": "x"}"#)) { response in
                #expect(response.status == .forbidden)
                #expect(errorMessage(response).contains("cross-origin"))
            }
            try await client.execute(uri: "/api/info", method: .get, headers: [.origin: "http://\(client.authority)"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
            try await client.execute(uri: "/api/jobs", method: .options, headers: [.origin: "http://evil.example"]) { response in
                #expect(response.status != .ok && response.status != .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }

    @Test("on loopback, only loopback Host names are answered (DNS rebinding)")
    func hosts() async throws {
        let server = try TestServer()
        try await server.test { client in
            for (host, answered) in [("rebound.example:\(client.port)", false), ("127.0.0.1:\(client.port)", true)] {
                try await client.execute(uri: "/api/info", method: .get, host: host) { response in
                    #expect((response.status == .ok) == answered, "\(host): \(response.status)")
                    #expect(answered || errorMessage(response).contains("only to loopback addresses"), "\(errorMessage(response))")
                }
            }
        }
        for host in ["127.0.0.1:8080", "localhost", "LOCALHOST:80", "[::1]:8080"] { #expect(ServerConfiguration.isLoopback(authority: host)) }
        for host in ["rebound.example:8080", "127.0.0.1.evil.example", "192.168.1.2:8080", "[::2]:80"] {
            #expect(!ServerConfiguration.isLoopback(authority: host), "\(host)")
        }
    }

    @Test("an unexpected error shows the client no path of the server's: a full disk is 507, anything else a plain 500")
    func unexpectedErrors() {
        let secret = "/srv/work/incoming/87fa"
        let full = ServerError.unexpected(CocoaError(.fileWriteOutOfSpace, userInfo: [NSFilePathErrorKey: secret]))
        #expect(full.status.code == 507 && !full.message.contains(secret), "\(full)")
        #expect(ServerError.unexpected(AudioFileError.noSpace(path: secret)).status.code == 507)
        let other = ServerError.unexpected(CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: secret]))
        #expect(other.status == .internalServerError && !other.message.contains(secret), "\(other)")
    }

    @Test("uploads are processed one at a time off the request threads; past the waiting room one is refused with 429 before its body is read")
    func uploadLane() async throws {
        let lane = UploadLane(capacity: 0)
        let release = DispatchSemaphore(value: 0)
        let (started, start) = AsyncStream.makeStream(of: Void.self)
        let first = Task { try await lane.run(receiving: { start.yield(); return 1 }, { value in release.wait(); return value }) }
        var events = started.makeAsyncIterator()
        _ = await events.next()   // the first holds the lane
        var read = false
        await #expect(throws: ServerError.self) { _ = try await lane.run(receiving: { read = true; return 2 }, { $0 }) }
        #expect(!read, "the refused upload's body was read")
        release.signal()
        #expect(try await first.value == 1)
        #expect(try await lane.run(receiving: { 3 }, { $0 }) == 3)   // room again
    }

    @Test("a job's event stream sends a comment every keep-alive interval, so the stream of a client that has gone ends and frees its connection")
    func eventKeepAlive() async throws {
        let server = try TestServer {
            $0.keepAliveSeconds = 0.3
            $0.maximumConnections = 2
        }
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let blocker = try await client.submit(longJob(clip))
            let queued = try await client.submit(longJob(clip))   // no event of its own while it waits
            struct Gone: Error {}
            var comment = false
            do {
                _ = try await client.stream("/api/jobs/\(queued)/events") { part in
                    guard String(buffer: part).contains(": keep-alive") else { return }
                    comment = true
                    throw Gone()   // the page closed
                }
            } catch is Gone {}
            #expect(comment)
            // Under a limit of 2, a held connection and a request fit only once the stream's is
            // free: after a comment or two find the client gone (a loaded machine may take seconds).
            var answered = false
            let deadline = Date().addingTimeInterval(20)
            while !answered, Date() < deadline {
                try await Task.sleep(for: .milliseconds(300))
                let held = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: client.port).get()
                try await Task.sleep(for: .milliseconds(100))
                answered = (try? await client.execute(uri: "/api/info", method: .get) { $0.status == .ok }) == true
                try await held.close()
            }
            #expect(answered, "the dropped stream still held its connection after 20 s")
            for job in [queued, blocker] {   // until the held connection is counted out
                var cancelled = false
                for _ in 0..<40 where !cancelled {
                    cancelled = (try? await client.execute(uri: "/api/jobs/\(job)", method: .delete) { _ in true }) == true
                    if !cancelled { try await Task.sleep(for: .milliseconds(250)) }
                }
            }
        }
    }

    @Test("connections past the limit are closed as they open, and the server answers again once the others close")
    func connectionLimit() async throws {
        let server = try TestServer { $0.maximumConnections = 4 }
        try await server.test { client in
            var held: [any Channel] = []
            for _ in 0..<4 {
                held.append(try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: client.port).get())
            }
            try await Task.sleep(for: .milliseconds(500))   // each counted in (a fifth counted first would take one's place)
            let closed = try await client.secondsUntilClosed(afterSending: "", limit: 10)
            #expect(closed.map { $0 < 2 } == true, "a fifth connection was closed after \(String(describing: closed)) s, not at once")
            for channel in held { try await channel.close() }
            var answered = false
            let deadline = Date().addingTimeInterval(20)   // until the closed ones are counted out
            while !answered, Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                answered = (try? await client.execute(uri: "/api/info", method: .get) { $0.status == .ok }) == true
            }
            #expect(answered, "the server did not answer once the held connections closed")
        }
    }

    @Test("a connection that sends nothing for --idle-seconds is closed, mid-upload too; a job's event stream is not cut")
    func idleConnections() async throws {
        let server = try TestServer { $0.idleSeconds = 1 }
        try await server.test { client in
            let stalledUpload = "POST /api/clips?name=x.wav HTTP/1.1\r\nHost: \(client.authority)\r\nContent-Length: 16044\r\n\r\nRIFF"
            for (bytes, what) in [("", "a silent connection"), ("GET /api/info HTTP/1.1\r\nHost: x", "half a head"), (stalledUpload, "a stalled upload")] {
                let closed = try await client.secondsUntilClosed(afterSending: bytes, limit: 10)
                #expect(closed.map { $0 >= 0.9 } == true, "\(what) was closed after \(String(describing: closed)) s, not after about 1 s")
            }
            // The stream of a running job sends events but reads nothing for longer than the limit.
            let clip = try await client.upload(TestServer.clip)
            let job = try await client.submit(longJob(clip))
            let opened = Date()
            var cancelled = false
            let response = try await client.stream("/api/jobs/\(job)/events") { _ in
                guard !cancelled, Date().timeIntervalSince(opened) > 2.5 else { return }
                cancelled = true
                try await client.execute(uri: "/api/jobs/\(job)", method: .delete)
            }
            #expect(cancelled)
            #expect(String(buffer: response.body).contains(#""state":"cancelled""#))
        }
    }

    @Test("another address than loopback needs a token, and a given token must be long")
    func configuration() throws {
        var settings = ServerConfiguration(workFolder: URL(fileURLWithPath: "/tmp"))
        settings.host = "0.0.0.0"
        #expect(throws: ServerConfigurationError.self) { try settings.validate() }
        settings.token = "short"
        #expect(throws: ServerConfigurationError.self) { try settings.validate() }
        settings.token = ServerConfiguration.newToken()
        try settings.validate()
        #expect(settings.token?.count == 32)
        for idle in [0, -1, .infinity, .nan] {
            settings.idleSeconds = idle
            #expect(throws: ServerConfigurationError.self) { try settings.validate() }
        }
    }

    @Test("clips expire after the documented time unless a job uses them")
    func expiry() async throws {
        let server = try TestServer { $0.expirySeconds = 0.5 }
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            try await Task.sleep(for: .milliseconds(700))
            _ = try await client.upload(TestServer.clip)   // an upload applies the rule
            try await client.execute(uri: "/api/clips/\(clip)", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorMessage(response).contains("expired"))
            }
            #expect(!FileManager.default.fileExists(atPath: server.workFolder.appendingPathComponent("clips/\(clip)").path))
        }
    }

    @Test("a clip is deleted on request, files and finished jobs with it; while a job uses it the delete is refused with 409 naming the job")
    func deleteClip() async throws {
        let server = try TestServer()
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let edit = try await client.submit(#"{"kind": "restyle", "clip": "\#(clip)", "prompt": "a cat", "steps": 2}"#)
            #expect(try await client.wait(edit)["state"] as? String == "done")
            let running = try await client.submit(longJob(clip))
            try await client.execute(uri: "/api/clips/\(clip)", method: .delete) { response in
                #expect(response.status == .conflict)
                #expect(errorMessage(response).contains(running))
            }
            #expect(try await client.versions(of: clip).count == 2, "a refused delete leaves the clip as it was")
            _ = try await client.execute(uri: "/api/jobs/\(running)", method: .delete)
            #expect(try await client.wait(running)["state"] as? String == "cancelled")
            try await client.execute(uri: "/api/clips/\(clip)", method: .delete) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/api/clips/\(clip)", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/clips/\(clip)/files/v0.wav", method: .get) { #expect($0.status == .notFound) }
            for job in [edit, running] {
                try await client.execute(uri: "/api/jobs/\(job)", method: .get) { #expect($0.status == .notFound, "job \(job) is forgotten") }
            }
            #expect(!FileManager.default.fileExists(atPath: server.workFolder.appendingPathComponent("clips/\(clip)").path))
            try await client.execute(uri: "/api/clips/\(clip)", method: .delete) { #expect($0.status == .notFound) }
        }
    }

    @Test("a generation cancelled while queued leaves no clip; its job is forgotten after the expiry")
    func finishedGenerations() async throws {
        // An expiry with room for a slow machine between the upload and the submit, which sweeps first.
        let server = try TestServer { $0.expirySeconds = 3 }
        try await server.test { client in
            let clips = { try FileManager.default.contentsOfDirectory(atPath: server.workFolder.appendingPathComponent("clips").path).count }
            let clip = try await client.upload(TestServer.clip)
            let blocker = try await client.submit(longJob(clip))
            let queued = try await client.submit(#"{"kind": "generate", "prompt": "a beep", "steps": 2}"#)
            let queuedClip = try #require(try await client.status(queued)["clip"] as? String)
            let cancelled = try await client.execute(uri: "/api/jobs/\(queued)", method: .delete) { try object($0)["state"] as? String }
            #expect(cancelled == "cancelled")
            try await client.execute(uri: "/api/clips/\(queuedClip)", method: .get) { response in
                #expect(response.status == .notFound, "a queued generation cancelled leaves its empty clip")
            }
            #expect(try clips() == 1)
            _ = try await client.execute(uri: "/api/jobs/\(blocker)", method: .delete)
            #expect(try await client.wait(blocker)["state"] as? String == "cancelled")
            try await Task.sleep(for: .milliseconds(3200))
            _ = try await client.upload(TestServer.clip)   // an upload applies the rule
            try await client.execute(uri: "/api/jobs/\(queued)", method: .get) { response in
                #expect(response.status == .notFound, "the cancelled generation's job outlived the expiry")
            }
        }
    }

    @Test("uploads and jobs are refused with 507 while the disk has less free than the server keeps free")
    func keepsDiskFree() async throws {
        let server = try TestServer { $0.minimumFreeBytes = Int.max / 2 }
        try await server.test { client in
            try await client.execute(uri: "/api/clips?name=c.wav", method: .post, body: ByteBuffer(bytes: try Data(contentsOf: TestServer.clip))) { response in
                #expect(response.status.code == 507 && errorMessage(response).contains("free"), "\(errorMessage(response))")
            }
            try await client.execute(uri: "/api/jobs", method: .post, body: ByteBuffer(string: #"{"kind": "generate", "prompt": "a beep", "steps": 2}"#)) { response in
                #expect(response.status.code == 507, "\(errorMessage(response))")
            }
        }
    }

    @Test("finished jobs are remembered up to a limit, the oldest forgotten first")
    func rememberedJobs() async throws {
        let server = try TestServer { $0.rememberedJobs = 3 }
        try await server.test { client in
            let clip = try await client.upload(TestServer.clip)
            let blocker = try await client.submit(longJob(clip))
            var cancelled: [String] = []
            for _ in 0..<5 {
                let job = try await client.submit(#"{"kind": "generate", "prompt": "a beep", "steps": 2}"#)
                _ = try await client.execute(uri: "/api/jobs/\(job)", method: .delete)
                cancelled.append(job)
            }
            for (index, job) in cancelled.enumerated() {
                try await client.execute(uri: "/api/jobs/\(job)", method: .get) { response in
                    #expect(response.status == (index < 2 ? .notFound : .ok), "job \(index + 1) of 5")
                }
            }
            _ = try await client.execute(uri: "/api/jobs/\(blocker)", method: .delete)
        }
    }

    @Test("a failed job's error names its files as the API does, not by the server's folders")
    func failedJobPaths() {
        let root = "/srv/work"
        let error = AudioFileError.unwritable(path: "\(root)/clips/\(String(repeating: "ab", count: 16))/v2.wav", reason: "the disk is on fire")
        #expect(EditorServer.describe(error, hidingFolder: root) == "cannot write v2.wav: the disk is on fire")
    }
}
