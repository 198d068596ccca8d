"""Who is at this browser: the key of every per-person state (drafts, label batches).

A Streamlit session id is new on every refresh, so it cannot find "your last draft".
The identity is, in order:

1. **The signed-in user**, when there is one: ``st.user`` when Streamlit's own auth is
   configured, else a user header set by an auth proxy in front of the server
   (``X-Forwarded-Email``, ``X-Forwarded-User``, ``X-Auth-Request-Email``,
   ``X-Auth-Request-User``, ``Remote-User``; read through ``st.context.headers``).
   Your draft then follows you to any browser. Trusting these headers gives nothing
   away: without a proxy a client can just as well forge the browser cookie below, and
   a proxy such as oauth2-proxy overwrites whatever the client sent.
2. **A random browser id kept in a cookie** (``wb_browser``, one year, ``SameSite=Lax``).
   ``st.context.cookies`` is read-only and is read from the WebSocket handshake, so the
   first session of a new browser draws an id, keeps it in session state and writes
   the cookie with one line of JavaScript (``st.html(..., unsafe_allow_javascript=True)``,
   the id is hex we generated, never user input). Every later session — a refresh, a
   new tab, a server restart — sends the cookie and gets the same id.

Why a cookie and not a query parameter: a ``?wb=…`` parameter survives a refresh too,
but it is per URL, not per browser — it is lost when the person switches pages
(``st.switch_page`` and the navigation links drop query parameters unless every switch
passes them on) and it travels with a copied link, so a colleague who opens your link
would get your drafts. The cookie's cost: all tabs of one browser
profile share one identity (your drafts are the same in both tabs, which is what
"your last draft" means), and a browser that refuses cookies gets a fresh identity
per session (its draft is kept for the session only). Label batches therefore use
the identity *and* this tab's id, so two tabs of one browser still get different rows.

This is isolation between honest people sharing a server, not access control: the
workbench has no accounts of its own.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import streamlit as st

COOKIE = "wb_browser"
KEY = "wb_browser_id"  # session state: this session's browser id (seeded by tests)
USER_HEADERS = ("X-Forwarded-Email", "X-Forwarded-User", "X-Auth-Request-Email", "X-Auth-Request-User",
                "Remote-User")
_BROWSER_ID = re.compile(r"^[0-9a-f]{16,64}$")
_COOKIE_JS = ("<script>(function(){{var s=location.protocol==='https:'?';Secure':'';"
              "document.cookie='{name}={value};path=/;max-age=31536000;SameSite=Lax'+s;}})();</script>")


@dataclass(frozen=True)
class Identity:
    """The person behind this session: ``key`` names their files; ``user`` is set when signed in."""

    key: str
    user: str = ""

    @property
    def label(self) -> str:
        return self.user or "this browser"


def _signed_in_user() -> str:
    try:
        if st.user.get("is_logged_in"):
            for field in ("email", "sub", "name"):
                if st.user.get(field):
                    return str(st.user.get(field))
    except Exception:  # noqa: BLE001 — st.user raises when auth is half-configured; fall back to headers
        pass
    headers = st.context.headers
    for name in USER_HEADERS:
        value = _text(headers.get(name))
        if value:
            return value[:200]
    return ""


def _text(value: object) -> str:
    """A header or cookie value as text ('' when absent; AppTest hands out mocks instead)."""
    return value.strip() if isinstance(value, str) else ""


def _cookie() -> str:
    return _text(st.context.cookies.get(COOKIE)).lower()


def browser_id() -> str:
    """This browser's id from its cookie; on its first session a new id (and the cookie is written)."""
    if KEY not in st.session_state:
        cookie = _cookie()
        st.session_state[KEY] = cookie if _BROWSER_ID.match(cookie) else ""
    if not st.session_state[KEY]:
        st.session_state[KEY] = secrets.token_hex(16)
    value = st.session_state[KEY]
    if _cookie() != value and not st.session_state.get(f"{KEY}_written"):
        st.session_state[f"{KEY}_written"] = True
        st.html(_COOKIE_JS.format(name=COOKIE, value=value), unsafe_allow_javascript=True, width="content")
    return value


def identity() -> Identity:
    """The identity of the person in this session (see the module docstring)."""
    user = _signed_in_user()
    if user:
        return Identity(f"user:{user}", user)
    return Identity(f"browser:{browser_id()}")
