"""A real browser for the tests that open a page: Debian's Chromium driven by Playwright."""

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# as the machine's notes advise: no background traffic to a closed network
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
