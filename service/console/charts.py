"""Charts drawn on the server as inline SVG: no script, no library, nothing fetched.

Every chart carries a ``<title>`` and ``role="img"`` with an ``aria-label`` so a
screen reader names it, and colours are presentation attributes (the console's
Content-Security-Policy allows no inline styles).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

ROW = 26
LABEL_W = 240
UP = "#c0392b"  # raises the output (risk up / value up)
DOWN = "#2471a3"


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    t = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{t}" class="chart"><title>{t}</title>{"".join(body)}</svg>'
    )


def _text(x: float, y: float, s: str, *, anchor: str = "start", size: int = 13, fill: str = "#222") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}">{escape(s)}</text>'


def waterfall(
    base: float,
    values: Mapping[str, float],
    *,
    title: str,
    names: Callable[[str], str],
    base_label: str,
    output_label: str,
    others_label: str,
    top: int = 10,
) -> Markup:
    """SHAP waterfall: from the base value, each input's contribution in turn, to the output.

    The ``top`` largest contributions by size are drawn one by one, the rest summed in one
    row; the rows add up exactly to the output (``base + Σ values``).
    """
    ranked = sorted(values.items(), key=lambda kv: -abs(kv[1]))
    rows = [(names(k), v) for k, v in ranked[:top]]
    rest = sum(v for _, v in ranked[top:])
    if ranked[top:]:
        rows.append((others_label, rest))
    ends = [base]
    for _, v in rows:
        ends.append(ends[-1] + v)
    lo, hi = min(ends), max(ends)
    span = (hi - lo) or 1.0
    plot_w = 420
    width, height = LABEL_W + plot_w + 90, ROW * (len(rows) + 3) + 10

    def x(v: float) -> float:
        return LABEL_W + (v - lo) / span * plot_w

    body = [_text(LABEL_W - 8, ROW - 8, f"{base_label} {base:.3f}", anchor="end")]
    body.append(f'<line x1="{x(base):.1f}" y1="{ROW - 20}" x2="{x(base):.1f}" y2="{ROW}" stroke="#888"/>')
    for i, (name, v) in enumerate(rows):
        y = ROW * (i + 1) + 4
        start, end = ends[i], ends[i + 1]
        left, right = min(x(start), x(end)), max(x(start), x(end))
        colour = UP if v > 0 else DOWN
        body.append(_text(LABEL_W - 8, y + 15, name, anchor="end"))
        body.append(
            f'<rect x="{left:.1f}" y="{y}" width="{max(right - left, 1):.1f}" height="{ROW - 8}" fill="{colour}"/>'
        )
        body.append(_text(right + 4, y + 15, f"{v:+.3f}", size=12, fill=colour))
    y_out = ROW * (len(rows) + 1) + 4
    body.append(f'<line x1="{x(ends[-1]):.1f}" y1="{y_out}" x2="{x(ends[-1]):.1f}" y2="{y_out + 16}" stroke="#222"/>')
    body.append(_text(LABEL_W - 8, y_out + 15, f"{output_label} {ends[-1]:.3f}", anchor="end"))
    return _svg(width, height, title, body)


def bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    fmt: Callable[[float], str],
    colour: str = "#2471a3",
) -> Markup:
    """Horizontal bars, one per labelled value (values ≥ 0)."""
    top = max((v for _, v in items), default=0.0) or 1.0
    plot_w = 360
    width, height = LABEL_W + plot_w + 110, ROW * max(len(items), 1) + 12
    body = []
    for i, (name, v) in enumerate(items):
        y = ROW * i + 6
        w = max(v, 0.0) / top * plot_w
        body.append(_text(LABEL_W - 8, y + 15, name, anchor="end"))
        body.append(f'<rect x="{LABEL_W}" y="{y}" width="{max(w, 1):.1f}" height="{ROW - 8}" fill="{colour}"/>')
        body.append(_text(LABEL_W + w + 6, y + 15, fmt(v), size=12))
    return _svg(width, height, title, body)


def line(
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    fmt: Callable[[float], str],
    colour: str = "#117a65",
) -> Markup:
    """A line over labelled points (months), first and last labels and the maximum marked."""
    width, height, pad = 700, 220, 50
    if not points:
        return _svg(width, 40, title, [_text(10, 25, "—")])
    top = max(v for _, v in points) or 1.0
    n = len(points)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + (i / max(n - 1, 1)) * (width - 2 * pad)
        return x, height - pad - v / top * (height - 2 * pad)

    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    body = [
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>',
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>',
    ]
    body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in coords]
    body.append(_text(pad, height - pad + 18, points[0][0], size=12))
    body.append(_text(width - pad, height - pad + 18, points[-1][0], anchor="end", size=12))
    peak = max(range(n), key=lambda i: points[i][1])
    px, py = coords[peak]
    body.append(_text(px, py - 8, fmt(points[peak][1]), anchor="middle", size=12))
    return _svg(width, height, title, body)
