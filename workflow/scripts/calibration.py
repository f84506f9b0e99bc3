"""Rule `calibration`: reliability diagram and CRPS of the ensembles (table + figure) from results/summary.nc."""
import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from datrain import calibration  # noqa: E402
from datrain import io as dio  # noqa: E402
from figures import ERRORBAR, empty_figure, final_frame, save  # noqa: E402
from joblog import redirect_to_log  # noqa: E402
from tables import cell  # noqa: E402


def figure(cube, bootstrap_seed):
    """Top: empirical vs nominal coverage per case (reliability diagram); bottom: CRPS per ensemble method."""
    methods = calibration.ensemble_methods(cube)
    if not methods:
        return empty_figure("no ensemble method (n_members > 1) completed")
    cases = [str(c) for c in cube["case"].values]
    coverage = calibration.coverage_frame(cube)
    crps = final_frame(cube, "crps")
    crps = crps[crps["method"].isin(methods)]
    fig, axes = plt.subplots(2, len(cases), figsize=(4.6 * len(cases), 8), squeeze=False)
    for column, case in enumerate(cases):
        top, bottom = axes[0][column], axes[1][column]
        top.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="perfect calibration")
        sns.lineplot(data=coverage[coverage["case"] == case], x="level", y="coverage", hue="method",
                     hue_order=methods, errorbar=ERRORBAR, seed=bootstrap_seed, marker="o", ax=top)
        top.set(xlim=(0, 1), ylim=(0, 1.02), aspect="equal", xlabel="nominal coverage of the central interval",
                ylabel="empirical coverage (noise-free truth)", title=case)
        sns.stripplot(data=crps[crps["case"] == case], x="method", y="crps", order=methods, color="0.55",
                      alpha=0.7, jitter=False, ax=bottom)
        sns.pointplot(data=crps[crps["case"] == case], x="method", y="crps", order=methods, errorbar=ERRORBAR,
                      seed=bootstrap_seed, color="C3", linestyle="none", marker="D", ax=bottom)
        bottom.set(yscale="log", xlabel="method", ylabel="mean ensemble CRPS")
        bottom.tick_params(axis="x", labelrotation=20)
        if column:
            top.get_legend().remove()
        else:
            top.legend(fontsize=7)
    fig.tight_layout()
    return fig


def markdown(table, confidence, config_hash):
    head = ["# Calibration of the ensembles", "", f"Summary config SHA-256: `{config_hash}`", ""]
    if table.empty:
        return "\n".join(head + ["No ensemble method (more than one member) completed.", ""])
    levels = [c.removeprefix("coverage_").removesuffix("_mean") for c in table.columns
              if c.startswith("coverage_") and c.endswith("_mean") and c != "coverage_error_mean"]
    shown = table[["case", "method"]].copy()
    shown["N"] = table["n_members"].map(lambda v: f"{v:.0f}")
    for level in levels:
        shown[f"{level}% interval"] = [cell(m, h, 3) for m, h in
                                       zip(table[f"coverage_{level}_mean"], table[f"coverage_{level}_ci"])]
    for name, label in (("coverage_error", "mean abs. coverage error"), ("crps", "CRPS"),
                        ("test_rmse", "test RMSE")):
        shown[label] = [cell(m, h) for m, h in zip(table[f"{name}_mean"], table[f"{name}_ci"])]
    return "\n".join(head + [
        "Empirical coverage of the central ensemble intervals (from the members' quantiles) of the noise-free "
        "test function, at each nominal level; the mean absolute gap between empirical and nominal coverage; "
        f"and the ensemble CRPS. Mean ± half-width of the {confidence:.0%} Student-t interval over seeds "
        "(ok runs of methods with more than one member).", "",
        shown.to_markdown(index=False), ""])


def main(smk):
    redirect_to_log(smk.log[0])
    sns.set_theme(style="whitegrid", context="paper")
    cube = dio.read_netcdf(smk.input.summary)
    config_hash = cube.attrs["config_sha256"]
    table = calibration.calibration_table(cube, smk.params.confidence)
    csv = table.copy()
    csv["config_sha256"] = config_hash
    with dio.atomic_output(smk.output.csv) as tmp:
        csv.to_csv(tmp, index=False, float_format="%.6g")
    with dio.atomic_output(smk.output.md) as tmp:
        tmp.write_text(markdown(table, smk.params.confidence, config_hash))
    save(figure(cube, smk.params.bootstrap_seed), smk.output.png, smk.output.pdf, config_hash)
    logging.info("calibration: %d rows (%s)", len(table), calibration.ensemble_methods(cube))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
