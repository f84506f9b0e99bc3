"""Rule `tables`: the comparison table (CSV, Markdown, LaTeX) from results/summary.nc only."""
import logging

import numpy as np

from datrain import analysis
from datrain import io as dio

from joblog import redirect_to_log


def cell(mean, half, digits=4):
    """``mean ± half`` ; a single run has no interval; no run at all is a dash."""
    if not np.isfinite(mean):
        return "—"
    return f"{mean:.{digits}f}" if not np.isfinite(half) else f"{mean:.{digits}f} ± {half:.{digits}f}"


def display_table(table, baseline):
    """The human-readable table: one row per case x method, formatted cells."""
    shown = table[["case", "method"]].copy()
    shown["N/p"] = table["members_per_param"].map(lambda v: "—" if not np.isfinite(v) else f"{v:.2f}")
    for name, label in analysis.TABLE_METRICS.items():
        short = name.removeprefix("final_")
        shown[label] = [cell(m, h) for m, h in zip(table[f"{short}_mean"], table[f"{short}_ci"])]
    shown[f"beats {baseline}"] = [
        "—" if n == 0 else f"{frac:.2f} ({round(frac * n)}/{n})"
        for frac, n in zip(table["beats_baseline"], table["n_pairs"])
    ]
    shown["ok/diverged/missing"] = [f"{a}/{b}/{c}" for a, b, c in
                                    zip(table["n_ok"], table["n_diverged"], table["n_missing"])]
    return shown


def explanation(cube, baseline, confidence):
    return (
        f"Mean ± half-width of the two-sided {confidence:.0%} Student-t confidence interval over seeds "
        f"({cube.sizes['seed']} seeds per cell; runs that diverged or are missing are excluded from every "
        f"mean and listed below). R² and RMSE of the final ensemble-mean prediction: train against the noisy "
        f"training targets, test against the noise-free test grid. 'beats {baseline}': fraction of seeds, "
        f"paired by seed among those where both runs are ok, in which the method's final test RMSE is lower "
        f"than {baseline}'s. N/p: ensemble members per network parameter."
    )


def notes_block(notes):
    return notes if notes else ["all runs completed (none diverged, none missing)"]


def main(smk):
    redirect_to_log(smk.log[0])
    cube = dio.read_netcdf(smk.input.summary)
    baseline, confidence = smk.params.baseline, smk.params.confidence
    config_hash = cube.attrs["config_sha256"]
    table = analysis.comparison_table(cube, baseline, confidence)
    notes = notes_block(analysis.run_notes(cube))

    csv = table.copy()
    csv["config_sha256"] = config_hash
    with dio.atomic_output(smk.output.csv) as tmp:
        csv.to_csv(tmp, index=False, float_format="%.6g")

    shown = display_table(table, baseline)
    lines = [
        "# Comparison of training methods",
        "",
        f"Summary config SHA-256: `{config_hash}`",
        "",
        explanation(cube, baseline, confidence),
        "",
        shown.to_markdown(index=False),
        "",
        "Notes:",
        "",
        *[f"- {note}" for note in notes],
        "",
    ]
    with dio.atomic_output(smk.output.md) as tmp:
        tmp.write_text("\n".join(lines))

    latex = shown.copy()
    latex.columns = [c.replace("R²", "$R^2$") for c in latex.columns]
    latex = latex.map(lambda s: str(s).replace("_", r"\_").replace("±", r"$\pm$").replace("—", "--"))
    caption = (explanation(cube, baseline, confidence).replace("R²", "$R^2$").replace("%", r"\%")
               .replace("±", r"$\pm$")
               + f" Notes: {'; '.join(notes)}. Summary config SHA-256: \\texttt{{{config_hash}}}.")
    with dio.atomic_output(smk.output.tex) as tmp:
        tmp.write_text(latex.to_latex(index=False, escape=False, caption=caption.replace("_", r"\_"),
                                      label="tab:comparison"))
    logging.info("tables from %s: %d rows; notes: %s", smk.input.summary, len(table), notes)


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
