"""A headless Chromium driven over the DevTools protocol, for the HTML report's browser tests
and for screenshots by hand (``python -m tests.browser.shot``). Standard library only."""

from .cdp import Browser, CdpError, Page, Problem, find_chromium, page

__all__ = ["Browser", "CdpError", "Page", "Problem", "find_chromium", "page"]
