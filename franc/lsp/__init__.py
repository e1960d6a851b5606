"""FRANC as a language server (``franc lsp``)."""

from franc.lsp.server import DocumentChecker, build_server

__all__ = ["DocumentChecker", "build_server"]
