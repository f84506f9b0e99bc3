"""Rule `sweep_report`: one table (CSV + Markdown) and one figure per sweep, from its cube
results/sweeps/{sweep}.nc (and the main summary cube for reference methods)."""
import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

from datrain import io as dio  # noqa: E402
from datrain import sweeps  # noqa: E402
from datrain.claims import last_finite  # noqa: E402
from figures import ERRORBAR, save  # noqa: E402
from joblog import redirect_to_log  # noqa: E402
from tables import cell  # noqa: E402


def final_frame(cube):
    """Long table ``point, <parameters>, case, method, seed, final_test_rmse`` of the ok runs, with a ``line`` label."""
    coords = sweeps.swept_parameters(cube)
    names = list(coords)
    scores = cube["final_test_rmse"].where(cube["status"] == "ok")
    frame = scores.to_dataframe().reset_index().dropna(subset=["final_test_rmse"])
    frame = frame.rename(columns={coord: name for name, coord in coords.items()})
    methods = list(dict.fromkeys(frame["method"]))
    others = names[1:]
    parts = ([frame["method"]] if len(methods) > 1 or not others else []) + [
        name + "=" + frame[name].map(sweeps.format_value) for name in others]
    frame["line"] = parts[0].str.cat(parts[1:], sep=", ") if len(parts) > 1 else parts[0]
    return frame


def figure(cube, references, bootstrap_seed):
    """Final test RMSE vs the first grid parameter, one line per method (and further parameters), one panel
    per case; reference methods of the main runs as horizontal lines (mean over the sweep seeds)."""
    coords = sweeps.swept_parameters(cube)
    x = next(iter(coords))
    frame = final_frame(cube)
    cases = [str(c) for c in cube["case"].values]
    values = cube[coords[x]].values
    numeric = np.issubdtype(values.dtype, np.number)
    fig, axes = plt.subplots(1, len(cases), figsize=(5 * len(cases), 3.8), squeeze=False)
    for ax, case in zip(axes[0], cases):
        data = frame[frame["case"] == case]
        if numeric:
            sns.lineplot(data=data, x=x, y="final_test_rmse", hue="line", errorbar=ERRORBAR, seed=bootstrap_seed,
                         marker="o", ax=ax)
            if values.min() > 0 and values.max() / values.min() >= 10:
                ax.set_xscale("log")
                ax.set_xticks(sorted(set(values.tolist())))
                ax.set_xticklabels([sweeps.format_value(v) for v in sorted(set(values.tolist()))])
                ax.minorticks_off()
        else:
            sns.pointplot(data=data, x=x, y="final_test_rmse", hue="line", errorbar=ERRORBAR, seed=bootstrap_seed,
                          dodge=0.3, ax=ax)
        if references is not None:
            for index, method in enumerate(references["method"].values):
                rmse = references["final_test_rmse"].where(references["status"] == "ok").sel(
                    {"case": case, "method": method})
                steps = last_finite(references["step"]).where(references["status"] == "ok")
                n_steps = float(steps.sel({"case": case, "method": method}).mean())
                ax.axhline(float(rmse.mean()), color=f"C{7 + index}", linestyle="--", linewidth=1.2,
                           label=f"{method} (main runs; mean {n_steps:.1f} steps)")
        ax.set(yscale="log", xlabel=x, ylabel="final test RMSE", title=case)
        ax.legend(fontsize=6)
    fig.suptitle(f"sweep {cube.attrs.get('sweep', '')}: mean over {cube.sizes['seed']} seeds, bootstrap 95% CI")
    fig.tight_layout()
    return fig


def markdown(table, cube, confidence):
    names = list(sweeps.swept_parameters(cube))
    lines = [f"# Sweep `{cube.attrs.get('sweep', '')}`", "",
             f"Sweep config SHA-256: `{cube.attrs['config_sha256']}`", "",
             f"Final scores over {cube.sizes['seed']} seeds (mean ± half-width of the {confidence:.0%} Student-t "
             "interval; runs that diverged are excluded and counted in 'ok'). N/p: members per network parameter; "
             "cost: mean training cost in forward evaluations; steps: epochs (gd, adam), Kalman updates (enkf) or "
             "assimilations (esmda). Rows 'main run' are reference methods from the main runs of the same seeds.",
             ""]
    for case, rows in table.groupby("case", sort=False):
        shown = rows[["point", *names, "method"]].copy()
        for name in names:
            shown[name] = shown[name].map(lambda v: "—" if v is None or v != v else sweeps.format_value(v))
        shown["N/p"] = rows["members_per_param"].map(lambda v: "—" if not np.isfinite(v) else f"{v:.2f}")
        shown["ok"] = [f"{a}/{b}" for a, b in zip(rows["n_ok"], rows["n_seeds"])]
        shown["cost"] = rows["cost"].map(lambda v: "—" if not np.isfinite(v) else f"{v:,.0f}")
        shown["steps"] = rows["steps"].map(lambda v: "—" if not np.isfinite(v) else f"{v:.1f}")
        for name, label in sweeps.SWEEP_METRICS.items():
            short = name.removeprefix("final_")
            shown[label] = [cell(m, h) for m, h in zip(rows[f"{short}_mean"], rows[f"{short}_ci"])]
        lines += [f"## {case}", "", shown.drop(columns="point").to_markdown(index=False), ""]
    return "\n".join(lines)


def main(smk):
    redirect_to_log(smk.log[0])
    sns.set_theme(style="whitegrid", context="paper")
    cube = dio.read_netcdf(smk.input.cube)
    references = None
    if smk.params.references:
        main_cube = dio.read_netcdf(smk.input.references[0])
        references = main_cube.sel({"method": list(smk.params.references), "seed": list(smk.params.seeds)})
    table = sweeps.sweep_table(cube, references, smk.params.confidence)
    csv = table.copy()
    csv["config_sha256"] = cube.attrs["config_sha256"]
    with dio.atomic_output(smk.output.csv) as tmp:
        csv.to_csv(tmp, index=False, float_format="%.6g")
    with dio.atomic_output(smk.output.md) as tmp:
        tmp.write_text(markdown(table, cube, smk.params.confidence))
    save(figure(cube, references, smk.params.bootstrap_seed), smk.output.png, smk.output.pdf,
         cube.attrs["config_sha256"])
    logging.info("sweep %s: %d table rows", cube.attrs.get("sweep"), len(table))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
