"""LaTeX tables (booktabs): the models x tasks main table and one table per task.

Paste into a paper with `\\usepackage{booktabs}` in the preamble. The best measured value
per column is bold, CI half-widths are `\\scriptsize`, captions name the dataset, the
evaluator hash and the number of replications.
"""
from __future__ import annotations

from hmvlm_bench.reporting.board import Board, TaskBoard, arrow, evaluator_hash

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}", "↑": r"$\uparrow$", "↓": r"$\downarrow$",
                "→": r"$\rightarrow$", "±": r"$\pm$", "—": "--", "−": "-"}


def tex_escape(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in str(text))


def _cell(tb: TaskBoard, model: str, metric: str) -> str:
    rec = tb.cell(model, metric)
    if rec is None:
        return "--"
    if rec.value is None:
        return "n/a"
    v = tex_escape(tb.fmt(metric, rec.value))
    if model in tb.best.get(metric, set()):
        v = f"\\textbf{{{v}}}"
    if rec.ci is not None:
        v += f"{{\\scriptsize$\\pm${tex_escape(tb.fmt(metric, rec.ci))}}}"
    return v


def _provenance_caption(tbs: list[TaskBoard]) -> str:
    datasets, evals, reps = [], [], []
    for tb in tbs:
        for model in tb.models:
            r = tb.results[model]
            d = f"{(r.dataset or {}).get('name', '?')}"
            dh = (r.dataset or {}).get("hash") or (r.dataset or {}).get("fingerprint")
            d += f" ({str(dh)[:8]})" if dh else ""
            e = f"{(r.evaluator or {}).get('name', 'none')}"
            eh = evaluator_hash(r)
            e += f" ({eh[:8]})" if eh else ""
            n = tb.replications(model)
            for bag, item in ((datasets, d), (evals, e), (reps, str(n) if n else None)):
                if item and item not in bag:
                    bag.append(item)
    return (f"Dataset: {tex_escape(', '.join(datasets) or 'unknown')}; evaluator: "
            f"{tex_escape(', '.join(evals) or 'none')}; replications: "
            f"{tex_escape(', '.join(reps) or 'n/a')}. Mean $\\pm$ 95\\% CI half-width; best "
            "measured value in bold.")


def _table(header: list[str], rows: list[list[str]], caption: str, label: str) -> str:
    cols = "l" + "r" * (len(header) - 1)
    out = ["\\begin{table}[t]", "\\centering", "\\small", f"\\begin{{tabular}}{{{cols}}}", "\\toprule",
           " & ".join(header) + " \\\\", "\\midrule"]
    out += [" & ".join(r) + " \\\\" for r in rows]
    out += ["\\bottomrule", "\\end{tabular}", f"\\caption{{{caption}}}", f"\\label{{{label}}}",
            "\\end{table}"]
    return "\n".join(out)


def render_latex(board: Board) -> str:
    parts = ["% hmvlm-bench leaderboard tables. Requires \\usepackage{booktabs} in the preamble.", ""]
    if not board.tasks:
        return "\n".join(parts + ["% no result files"]) + "\n"
    header = ["Model"] + [tex_escape(f"{tb.display.display} {tb.metric(tb.display.main_metric).display} "
                                     f"{arrow(tb.metric(tb.display.main_metric).better)}".strip())
                          for tb in board.tasks]
    rows = [[tex_escape(m)] + [_cell(tb, m, tb.display.main_metric) for tb in board.tasks]
            for m in board.models]
    parts.append(_table(header, rows, "Main metric per task. " + _provenance_caption(board.tasks),
                        "tab:hmvlm-bench-main"))
    for tb in board.tasks:
        header = ["Model"] + [tex_escape(f"{m.display} {arrow(m.better)}".strip())
                              for m in tb.display.metrics]
        rows = [[tex_escape(m)] + [_cell(tb, m, md.name) for md in tb.display.metrics]
                for m in tb.models]
        parts += ["", _table(header, rows, f"{tex_escape(tb.display.display)}. "
                             + _provenance_caption([tb]), f"tab:hmvlm-bench-{tb.name.replace('_', '-')}")]
    return "\n".join(parts) + "\n"
