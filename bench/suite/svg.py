"""The page's plots: horizontal bar charts as SVG, with no plotting library."""

import math


def svg_bars(title, rows, unit, log_scale=False, value_fmt=lambda v: f'{v:,.0f}'):
    """Horizontal bars. rows: [(label, [(series_label, value, color)])]; one group per row."""
    bar_h, gap, left, width = 16, 10, 170, 460
    n_bars = sum(len(r[1]) for r in rows)
    height = 50 + n_bars * bar_h + len(rows) * gap + 30
    values = [v for _, bars in rows for _, v, _ in bars if v]
    vmax = max(values) if values else 1
    vmin = min(values) if values else 1

    def scale(v):
        if not v or v <= 0:
            return 0
        if log_scale:
            lo = math.log10(max(vmin / 2, 1e-9))
            return width * (math.log10(v) - lo) / (math.log10(vmax) - lo + 1e-9)
        return width * v / vmax

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 130}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="20" font-size="14" font-weight="bold">{title}</text>',
           f'<text x="10" y="38" fill="#555">{unit}{" (log scale)" if log_scale else ""}</text>']
    y = 50
    for label, bars in rows:
        out.append(f'<text x="10" y="{y + bar_h * len(bars) / 2 + 4:.0f}">{label}</text>')
        for series_label, v, color in bars:
            w = scale(v)
            out.append(f'<rect x="{left}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h - 3}" fill="{color}"/>')
            text = 'n/a' if v is None else value_fmt(v)
            out.append(f'<text x="{left + max(w, 1) + 4:.1f}" y="{y + bar_h - 5}" fill="#222">'
                       f'{series_label} {text}</text>')
            y += bar_h
        y += gap
    out.append('</svg>')
    return '\n'.join(out)
