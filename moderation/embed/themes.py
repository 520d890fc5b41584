"""Themes for the iframe: light, dark or the reader's preference, plus site overrides.

The iframe is on our origin, so a publisher's stylesheet cannot reach into it,
and our CSP (style-src 'self') forbids inline styles. A site therefore passes a
few overrides as iframe parameters (colours as hex, a font family from a safe
character set, a font size); /embed/theme.css turns exactly those into CSS
custom properties. Every value is checked against a strict pattern: the CSS
route answers 400 to a bad one, the thread page silently leaves it out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, request, url_for

from ..errors import InvalidInput
from .blueprint import bp


class BadTheme(InvalidInput):
    """A theme parameter that fails its check: the stylesheet is not served."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad_theme"


THEMES = ("light", "dark", "auto")

_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
# One family name: letters, digits, spaces and hyphens (no quotes, semicolons,
# braces or backslashes, so a value can never leave its declaration).
_FAMILY = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{0,59}")
_GENERIC = {
    "serif",
    "sans-serif",
    "monospace",
    "cursive",
    "fantasy",
    "system-ui",
    "ui-serif",
    "ui-sans-serif",
    "ui-monospace",
    "ui-rounded",
}
_SIZE = re.compile(r"(\d{1,2})(px)?")
SIZE_MIN, SIZE_MAX = 12, 24
FAMILIES_MAX = 6


def _colour(value: str) -> str | None:
    match = _HEX.fullmatch(value.strip())
    return f"#{match.group(1).lower()}" if match else None


def _font(value: str) -> str | None:
    names = [name.strip().strip("\"'").strip() for name in value.split(",")]
    if not names or len(names) > FAMILIES_MAX:
        return None
    out = []
    for name in names:
        if not _FAMILY.fullmatch(name):
            return None
        out.append(name.lower() if name.lower() in _GENERIC else f'"{name}"')
    return ", ".join(out)


def _size(value: str) -> str | None:
    match = _SIZE.fullmatch(value.strip())
    if not match or not SIZE_MIN <= int(match.group(1)) <= SIZE_MAX:
        return None
    return f"{int(match.group(1))}px"


# parameter -> (custom property, check that returns the CSS value or None)
OVERRIDES: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "accent": ("--mod-accent", _colour),
    "text": ("--mod-text", _colour),
    "muted": ("--mod-muted", _colour),
    "background": ("--mod-bg", _colour),
    "border": ("--mod-border", _colour),
    "font": ("--mod-font", _font),
    "size": ("--mod-font-size", _size),
}


def valid_overrides(args: Mapping[str, str]) -> dict[str, Any]:
    """The override parameters that pass their checks (raw values), others dropped."""
    return {
        name: args[name]
        for name, (_, check) in OVERRIDES.items()
        if args.get(name) and check(args[name]) is not None
    }


def overrides_css(args: Mapping[str, str]) -> str:
    """The stylesheet for these overrides, or BadTheme naming each bad one."""
    unknown = sorted(set(args) - set(OVERRIDES))
    errors: dict[str, list[str]] = {
        name: ["Not a theme parameter."] for name in unknown
    }
    declarations = []
    for name, (prop, check) in OVERRIDES.items():
        if name not in args:
            continue
        value = check(args[name])
        if value is None:
            errors[name] = [_HINTS[name]]
        else:
            declarations.append(f"  {prop}: {value} !important;")
    if errors:
        raise BadTheme(
            "Bad theme parameters: " + ", ".join(sorted(errors)) + ".", errors
        )
    # !important: the overrides win over the light and dark themes alike.
    return ".embed {\n" + "\n".join(declarations) + "\n}\n"


_COLOUR_HINT = "A colour as #rgb or #rrggbb."
_HINTS = {
    "accent": _COLOUR_HINT,
    "text": _COLOUR_HINT,
    "muted": _COLOUR_HINT,
    "background": _COLOUR_HINT,
    "border": _COLOUR_HINT,
    "font": (
        f"Up to {FAMILIES_MAX} font families separated by commas: letters, digits, "
        "spaces and hyphens only."
    ),
    "size": f"A font size in pixels, {SIZE_MIN} to {SIZE_MAX}.",
}


def theme_name(args: Mapping[str, str]) -> str:
    """light, dark or auto (the reader's system setting), from `theme`."""
    asked = args.get("theme", "")
    return asked if asked in THEMES else "auto"


@bp.app_template_global()
def embed_theme() -> str:
    """The theme this embed page is shown in (for its body class)."""
    return theme_name(request.args)


@bp.app_template_global()
def theme_args() -> dict[str, str]:
    """The theme parameters to carry on links and forms inside the iframe."""
    args = valid_overrides(request.args)
    theme = request.args.get("theme", "")
    if theme in THEMES and theme != "auto":
        args["theme"] = theme
    return args


@bp.app_template_global()
def theme_css_url() -> str:
    """The URL of the overrides' stylesheet, or '' when there are none."""
    overrides = valid_overrides(request.args)
    return url_for("embed.theme_css", **overrides) if overrides else ""


@bp.get("/theme.css")
def theme_css() -> Response:
    """A site's colour and font overrides as CSS custom properties."""
    css = overrides_css(request.args)
    response = Response(css, mimetype="text/css")
    # The stylesheet is a pure function of its URL.
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
