#!/usr/bin/env python3
"""The browser editor in a real browser (issue #20; docs/serve.md, "Tests").

    browser_test.py AUFFUSION [--screenshot PNG]

Starts `AUFFUSION serve` with the embedded model and Debian's Chromium (headless) under its
chromedriver, and drives the page over the W3C WebDriver protocol (plain HTTP and JSON, Python's
standard library only): load the page, upload a clip, drag a selection on the spectrogram, run a
fill, wait for the result, play it, download it; the downloaded file must equal, byte for byte,
what `AUFFUSION inpaint` writes with the same settings and seed; then delete the clip (the
confirmation dismissed, then accepted). --screenshot saves the page
with the result. Exits 0 when every step passed, 1 with a message naming the step otherwise.
"""

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"   # the W3C key of an element reference


class Failure(Exception):
    pass


class Started:
    """A program run for the test; its output is read as it comes (a full pipe would stop it)."""

    def __init__(self, arguments):
        self.process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.ready = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self.ready:
                self.lines.append(line.rstrip("\n"))
                self.ready.notify_all()

    def line(self, prefix, timeout=60):
        """The first line of output starting with `prefix`."""
        deadline = time.monotonic() + timeout
        with self.ready:
            while True:
                found = next((line for line in self.lines if line.startswith(prefix)), None)
                if found is not None:
                    return found
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise Failure(f"{self.process.args[0]} printed no line starting with {prefix!r}:\n" + "\n".join(self.lines[-20:]))
                self.ready.wait(0.2)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


class WebDriver:
    """One browser session over W3C WebDriver."""

    def __init__(self, endpoint, downloads):
        self.endpoint = endpoint
        options = {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
            "prefs": {"download.default_directory": downloads, "download.prompt_for_download": False},
        }
        capabilities = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}}
        self.session = self.call("POST", "/session", capabilities)["sessionId"]

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)["value"]
        except urllib.error.HTTPError as error:
            raise Failure(f"WebDriver {method} {path}: {error.code} {error.read().decode(errors='replace')[:400]}")

    def command(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}/{path}", body)

    def script(self, source, *arguments):
        return self.command("POST", "execute/sync", {"script": source, "args": list(arguments)})

    def wait(self, condition, what, timeout=60):
        deadline = time.monotonic() + timeout
        while not self.script(condition):
            if time.monotonic() > deadline:
                page = self.script("return document.getElementById('status').textContent + ' | ' + document.getElementById('message').textContent")
                raise Failure(f"{what}: not after {timeout} s (page says: {page})")
            time.sleep(0.1)

    def element(self, selector):
        return self.command("POST", "element", {"using": "css selector", "value": selector})[ELEMENT]

    def type(self, selector, text):
        element = self.element(selector)
        self.command("POST", f"element/{element}/clear", {})
        self.command("POST", f"element/{element}/value", {"text": text})

    def click(self, selector):
        self.command("POST", f"element/{self.element(selector)}/click", {})

    def quit(self):
        self.call("DELETE", f"/session/{self.session}")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def quietly(arguments):
    """Runs a command, showing its output only when it fails (the embedded model's clips warn of clipping)."""
    done = subprocess.run(arguments, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failure(f"{' '.join(arguments[:2])} failed ({done.returncode}): {done.stderr.strip()}")


def run(auffusion, screenshot, folder):
    timings = {}
    started = time.monotonic()

    def step(name):
        timings[name] = time.monotonic() - started

    clip = os.path.join(folder, "beep.wav")
    quietly([auffusion, "generate", "a low pitched beep", "--seed", "3", "--steps", "10", "-o", clip, "--quiet"])
    step("clip")

    server = Started([auffusion, "serve", "--port", "0", "--workdir", os.path.join(folder, "work")])
    driver_port = free_port()
    driver = Started([CHROMEDRIVER, f"--port={driver_port}"])
    browser = None
    try:
        address = server.line("open ").split()[1]
        driver.line("ChromeDriver was started successfully")
        downloads = os.path.join(folder, "downloads")
        os.makedirs(downloads)
        browser = WebDriver(f"http://127.0.0.1:{driver_port}", downloads)
        step("browser")

        browser.command("POST", "url", {"url": address})
        browser.wait("return document.getElementById('status').textContent === 'idle' && state.info !== null", "the page loads")
        # The page lists (and shows) every uncaught error of its script: there must be none.
        # Before any clip: the version buttons are off, and their keys do nothing.
        if not browser.script("return ['undo', 'redo', 'ab'].every((id) => document.getElementById(id).disabled)"):
            raise Failure("undo, redo or A/B is enabled before a clip is open")
        browser.script("document.getElementById('ab').onclick(); document.getElementById('undo').onclick()")
        browser.command("POST", f"element/{browser.element('#file')}/value", {"text": clip})
        browser.wait("return document.querySelectorAll('#versions li').length === 1 && !!state.picture", "the upload shows")
        step("upload")

        # Drag over 0.5–1.3 s on the spectrogram, as a person does with the mouse.
        canvas = browser.element("#spectrogram")
        x = lambda seconds: round(browser.script(f"return timeToX({seconds}) - document.getElementById('spectrogram').width / 2"))
        origin = {ELEMENT: canvas}
        browser.command("POST", "actions", {"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
            {"type": "pointerMove", "origin": origin, "x": x(0.5), "y": 0}, {"type": "pointerDown", "button": 0},
            {"type": "pointerMove", "origin": origin, "x": x(0.9), "y": 10, "duration": 100},
            {"type": "pointerMove", "origin": origin, "x": x(1.3), "y": 20, "duration": 100}, {"type": "pointerUp", "button": 0},
        ]}]})
        selection = browser.script("return state.selection")
        if not selection or abs(selection["start"] - 0.5) > 0.05 or abs(selection["end"] - 1.3) > 0.05:
            raise Failure(f"the drag selected {selection}, not 0.5–1.3 s")

        if browser.script("return document.getElementById('source-row').offsetParent !== null"):
            raise Failure("the source prompt shows for a fill, which takes none")
        # A prompt edit starts from the clip's inversion unless SDEdit's start is chosen; a fill has no choice.
        if browser.script("return document.getElementById('start-row').offsetParent !== null"):
            raise Failure("the start shows for a fill, which has one")
        choose = "const kind = document.getElementById('kind'); kind.value = arguments[0]; kind.onchange();"
        starts = browser.script(choose + "return [...document.getElementById('start').options].map((option) => option.value)", "swap")
        request = browser.script("return editRequest()")
        if starts != ["inversion", "sdedit"] or request.get("start") != "inversion" or "strength" in request:
            raise Failure(f"a swap offers the starts {starts} and asks for {request}, not the inversion without a strength")
        # Choosing a start sets the guidance its method edits with: ZETA's 12 for a DDPM restyle.
        pick = choose + "const start = document.getElementById('start'); start.value = arguments[1]; start.onchange(); return editRequest().guidance"
        guidance = [browser.script(pick, "restyle", start) for start in ("ddpm", "sdedit")]
        if guidance != [12, 7.5]:
            raise Failure(f"a restyle from the DDPM inversion and from SDEdit asks for guidance {guidance}, not [12, 7.5]")
        browser.script(choose, "fill")
        browser.type("#prompt", "white noise")
        browser.type("#steps", "10")
        browser.type("#seed", "5")
        browser.click("#run")
        browser.wait("return document.getElementById('status').textContent.startsWith('done')", "the fill finishes", timeout=120)
        browser.wait("return document.querySelectorAll('#versions li').length === 2 && !!state.picture", "the result shows")
        step("fill")

        browser.click("#play")
        browser.wait("return document.getElementById('audio').currentTime > 0.2", "the result plays", timeout=20)
        browser.script("document.getElementById('audio').pause()")
        # The playhead moves where the spectrogram is clicked: the audio seeks (the server answers byte ranges).
        browser.script("const audio = document.getElementById('audio'); audio.currentTime = 1.0")
        browser.wait("const audio = document.getElementById('audio'); return !audio.seeking && Math.abs(audio.currentTime - 1.0) < 0.05 "
                     "&& audio.seekable.length > 0 && audio.seekable.end(0) > 1.5", "the audio seeks to 1.0 s", timeout=20)
        step("play")

        version = browser.script("return state.clip.versions[1]")
        browser.click("#download")
        target = os.path.join(downloads, version["file"])
        deadline = time.monotonic() + 30
        while not os.path.exists(target):
            if time.monotonic() > deadline:
                raise Failure(f"the download did not arrive in {downloads}: {os.listdir(downloads)}")
            time.sleep(0.1)
        step("download")

        errors = browser.script("return pageErrors")
        if errors:
            raise Failure(f"the page's script threw: {errors}")
        # A reload comes back to the clip and the version shown, here the upload chosen by Undo.
        browser.click("#undo")
        browser.wait("return state.current === 0", "undo shows v0")
        browser.command("POST", "url", {"url": address})
        browser.wait("return state.clip !== null && state.current === 0 && document.querySelectorAll('#versions li').length === 2",
                     "the reload shows the same clip and version")
        errors = browser.script("return pageErrors")
        if errors:
            raise Failure(f"the page's script threw after the reload: {errors}")
        step("reload")

        if screenshot:
            browser.script("state.selection = arguments[0]; describeSelection(); draw();", selection)
            with open(screenshot, "wb") as file:
                file.write(base64.b64decode(browser.command("GET", "screenshot")))

        pass_ = version["plan"]["passes"][0]
        start, end = pass_["mask"]["ranges"][0]
        reference = os.path.join(folder, "inpainted.wav")
        quietly([auffusion, "inpaint", clip, pass_["prompt"], "--mask", f"{start}-{end}", "--steps", str(pass_["steps"]),
                 "--guidance", str(pass_["guidance"]), "--seed", str(version["seed"]), "-o", reference, "--quiet"])
        with open(target, "rb") as downloaded, open(reference, "rb") as written:
            if downloaded.read() != written.read():
                raise Failure(f"the page's download {version['file']} differs from `auffusion inpaint`'s file")
        step("compare")

        # Deleting the clip asks first; dismissed, nothing happens; accepted, the server forgets the
        # clip and the page is as it starts.
        clip_id = browser.script("return state.clip.id")
        browser.click("#delete-clip")
        browser.command("POST", "alert/dismiss", {})
        if browser.script("return state.clip === null"):
            raise Failure("a dismissed delete forgot the clip")
        browser.click("#delete-clip")
        browser.command("POST", "alert/accept", {})
        browser.wait("return state.clip === null && document.querySelectorAll('#versions li').length === 0 "
                     "&& ['undo', 'redo', 'ab', 'delete-clip'].every((id) => document.getElementById(id).disabled)",
                     "the page shows no clip after the delete")
        status = browser.script("return fetch('/api/clips/' + arguments[0]).then((response) => response.status)", clip_id)
        if status != 404:
            raise Failure(f"the deleted clip still answers {status}")
        errors = browser.script("return pageErrors")
        if errors:
            raise Failure(f"the page's script threw after the delete: {errors}")
        step("delete")
    finally:
        if browser:
            browser.quit()
        driver.stop()
        server.stop()
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("auffusion", help="the auffusion binary")
    parser.add_argument("--screenshot", help="save the page with the result here (PNG)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="auffusion-browser-") as folder:
        try:
            timings = run(arguments.auffusion, arguments.screenshot, folder)
        except Failure as error:
            print(f"error: browser test: {error}", file=sys.stderr)
            return 1
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    print(f"browser test: passed (load, upload, drag, fill, play, download = auffusion inpaint, delete); at {steps}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
