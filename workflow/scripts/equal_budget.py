"""Rule `equal_budget`: test RMSE at matched training cost (table + figure) from results/summary.nc only."""
import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from datrain import budget  # noqa: E402
from datrain import io as dio  # noqa: E402
from figures import ERRORBAR, save  # noqa: E402
from joblog import redirect_to_log  # noqa: E402
from tables import cell  # noqa: E402


def figure(cube, table, reference, multiples, bootstrap_seed):
    """Top: test RMSE vs cost per case with the matched budgets; bottom: test RMSE at each budget."""
    methods = [str(m) for m in cube["method"].values]
    cases = [str(c) for c in cube["case"].values]
    curves = budget.cost_frame(cube)
    curves = curves[curves["n_forward"] > 0]  # log axis; the initial state costs nothing
    points = budget.budget_frame(cube, reference, multiples)
    fig, axes = plt.subplots(2, len(cases), figsize=(5.2 * len(cases), 7.5), squeeze=False)
    for column, case in enumerate(cases):
        top, bottom = axes[0][column], axes[1][column]
        sns.lineplot(data=curves[curves["case"] == case], x="n_forward", y="test_rmse", hue="method",
                     hue_order=methods, errorbar=ERRORBAR, seed=bootstrap_seed, ax=top)
        here = table[table["case"] == case]
        for multiple, limit in here.groupby("multiple")["budget"].first().items():
            top.axvline(limit, color="0.3", linestyle=":", linewidth=1)
            top.text(limit, 0.01, f" {multiple:g}x", transform=top.get_xaxis_transform(), ha="left",
                     va="bottom", fontsize=7)
        top.set(xscale="log", yscale="log", xlabel="cumulative forward evaluations", ylabel="test RMSE",
                title=f"{case}: budgets in multiples of {reference}'s cost")
        sns.pointplot(data=points[points["case"] == case], x="multiple", y="test_rmse", hue="method",
                      hue_order=methods, errorbar=ERRORBAR, seed=bootstrap_seed, dodge=0.4, linestyle="none",
                      markersize=4, ax=bottom)
        bottom.set(yscale="log", xlabel=f"budget (multiple of {reference}'s total cost)",
                   ylabel="test RMSE at the budget")
        if column:
            top.get_legend().remove()
            bottom.get_legend().remove()
        else:
            top.legend(fontsize=7)
            bottom.legend(fontsize=7)
    fig.tight_layout()
    return fig


def markdown(table, reference, baseline, confidence, config_hash):
    lines = ["# Test RMSE at matched training budgets", "", f"Summary config SHA-256: `{config_hash}`", "",
             f"Every run is scored at the last recorded step whose cumulative cost (forward evaluations; a "
             f"backward pass counts 2; monitoring is not counted) is within k times {reference}'s total cost "
             f"(median over seeds). Cells: mean ± half-width of the {confidence:.0%} Student-t interval over "
             f"seeds; in brackets the fraction of seeds beating {baseline} at the same budget, and '*' when the "
             "method finished training within the budget in every seed. A method that records no step "
             "within the budget is scored at its initial state.", ""]
    for case, rows in table.groupby("case", sort=False):
        shown = pd.DataFrame({"method": list(dict.fromkeys(rows["method"]))})
        for multiple, part in rows.groupby("multiple", sort=False):
            part = part.set_index("method")
            header = f"{multiple:g}x ({part['budget'].iloc[0]:.3g} evals)"
            shown[header] = [
                cell(part.loc[m, "test_rmse_mean"], part.loc[m, "test_rmse_ci"])
                + ("" if m == baseline or part.loc[m, "beats_baseline"] != part.loc[m, "beats_baseline"]
                   else f" [{part.loc[m, 'beats_baseline']:.0%}]")
                + (" *" if part.loc[m, "finished"] == 1 else "")
                for m in shown["method"]]
        lines += [f"## {case}", "", shown.to_markdown(index=False), ""]
    return "\n".join(lines)


def main(smk):
    redirect_to_log(smk.log[0])
    sns.set_theme(style="whitegrid", context="paper")
    cube = dio.read_netcdf(smk.input.summary)
    config_hash = cube.attrs["config_sha256"]
    spec, baseline, confidence = smk.params.budget, smk.params.baseline, smk.params.confidence
    table = budget.budget_table(cube, spec["reference"], spec["multiples"], baseline, confidence)
    csv = table.copy()
    csv["config_sha256"] = config_hash
    with dio.atomic_output(smk.output.csv) as tmp:
        csv.to_csv(tmp, index=False, float_format="%.6g")
    with dio.atomic_output(smk.output.md) as tmp:
        tmp.write_text(markdown(table, spec["reference"], baseline, confidence, config_hash))
    save(figure(cube, table, spec["reference"], spec["multiples"], smk.params.bootstrap_seed), smk.output.png, smk.output.pdf,
         config_hash)
    logging.info("equal budget: %d rows; budgets %s", len(table),
                 table.groupby(["case", "multiple"])["budget"].first().to_dict())


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
