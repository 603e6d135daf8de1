"""One PNG with the headline ratios (matplotlib, from the `bench` extra)."""

from __future__ import annotations

from pathlib import Path

from bench.harness import Table


def draw(v2v: Table, tts: Table, load: Table | None, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if load else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4))
    ax = axes[0]
    labels = [f"{float(r[0]):.0f} s" for r in v2v.rows]
    xs = range(len(labels))
    width = 0.2
    for offset, col, name in (
        (-1.5 * width, 1, "naive total"),
        (-0.5 * width, 2, "after transcript: first audio"),
        (0.5 * width, 3, "live: first audio"),
        (1.5 * width, 4, "live: total"),
    ):
        ax.bar([x + offset for x in xs], [float(r[col]) for r in v2v.rows], width, label=name)
    ax.set_xticks(list(xs), labels)
    ax.set_title("Voice to voice: seconds")
    ax.set_xlabel("recording length")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.bar([r[0] for r in tts.rows], [float(r[3]) for r in tts.rows])
    ax.set_title("TTS real-time factor (lower is faster)")
    ax.tick_params(axis="x", rotation=30, labelsize=8)
    if load:
        ax = axes[2]
        levels = [int(r[0]) for r in load.rows]
        ax.plot(levels, [float(r[2]) for r in load.rows], marker="o", label="p50")
        ax.plot(levels, [float(r[3]) for r in load.rows], marker="o", label="p95")
        ax.set_title("Server latency under load (s)")
        ax.set_xlabel("concurrent clients")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
