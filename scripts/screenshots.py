"""Screenshots for the docs, taken in headless Chromium: the monitoring report and the Dagster UI's
asset graph. Start the UI first (`dg dev`, see README), then:

    .venv/bin/python scripts/screenshots.py data/bi/report/index.html http://127.0.0.1:3000

Writes docs/img/report.png, docs/img/asset_graph.png and docs/img/asset_graph_aging.png.
"""

import base64
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import connect

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
PORT = 9333
SKIP_DIALOG = """[...document.querySelectorAll('button')].filter(b => b.textContent.trim() === 'Skip')
                 .forEach(b => b.click())"""


class Page:
    """One Chromium tab driven over the DevTools protocol."""

    def __init__(self, socket):
        self.socket, self.next_id = socket, 0

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                return message.get("result", {})

    def shoot(self, url: str, out: Path, width: int, height: int, settle: float, script: str = "") -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)
        time.sleep(settle)
        if script:
            self.call("Runtime.evaluate", expression=script)
            time.sleep(2)
        out.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))
        print(f"wrote {out}")


def main(report: str, ui: str) -> None:
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--remote-debugging-port={PORT}", f"--user-data-dir={profile}", "about:blank"],
            stderr=subprocess.DEVNULL)
        try:
            for _ in range(50):
                try:
                    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{PORT}/json"))
                    break
                except OSError:
                    time.sleep(0.2)
            tab = next(t for t in targets if t["type"] == "page")
            with connect(tab["webSocketDebuggerUrl"], max_size=None) as socket:
                page = Page(socket)
                page.shoot(Path(report).resolve().as_uri(), OUT / "report.png", 1300, 2400, 5)
                page.shoot(f"{ui}/asset-groups", OUT / "asset_graph.png", 1600, 900, 10, SKIP_DIALOG)
                page.shoot(f"{ui}/locations/lending/asset-groups/aging", OUT / "asset_graph_aging.png", 1600, 900, 10,
                           SKIP_DIALOG)
        finally:
            browser.terminate()
            browser.wait()


if __name__ == "__main__":
    main(*sys.argv[1:3])
