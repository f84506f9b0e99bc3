"""Rules `figure_*`: seaborn figures (PNG + PDF) from results/summary.nc only.

Means over seeds carry seaborn's bootstrap 95% interval (``errorbar=("ci", 95)``)
with a fixed ``seed``; runs whose status is not "ok" are left out. Every figure
names the summary's config hash; savefig metadata is stripped so that reruns
give identical files.
"""
import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402
import seaborn as sns  # noqa: E402

from datrain import io as dio  # noqa: E402
from datrain.experiment import DA_TRAINERS  # noqa: E402
from joblog import redirect_to_log  # noqa: E402

METADATA = {"png": {"Software": None}, "pdf": {"Creator": None, "Producer": None, "CreationDate": None}}
ERRORBAR = ("ci", 95)


def save(fig, png, pdf, config_hash):
    """Write PNG and PDF (atomically) without timestamps or software tags, with the config hash as a
    footer and, machine-readable, in the metadata (PNG ``Description``, PDF ``Subject``)."""
    label = f"summary config sha256 {config_hash}"
    fig.text(0.995, -0.01, label, ha="right", va="top",
             fontsize=6, color="0.4")  # below the axes; bbox_inches="tight" keeps it
    with dio.atomic_output(png) as tmp:
        fig.savefig(tmp, dpi=150, bbox_inches="tight", metadata={**METADATA["png"], "Description": label})
    with dio.atomic_output(pdf) as tmp:
        fig.savefig(tmp, bbox_inches="tight", metadata={**METADATA["pdf"], "Subject": label})
    plt.close(fig)


def history_frame(cube, names):
    """Long table (case, method, seed, iteration, trainer, step, n_forward, *names) of the ok runs."""
    per_step = cube[["step", "n_forward", *names]].where(cube["status"] == "ok")
    frame = per_step.to_dataframe().reset_index().dropna(subset=["step"])
    trainers = cube["trainer"].to_dataframe().reset_index()
    return frame.merge(trainers, on=["case", "method", "seed"], how="left")


def final_frame(cube, name):
    """Long table (case, method, seed, name) of the ok runs."""
    return cube[name].where(cube["status"] == "ok").to_dataframe().reset_index().dropna(subset=[name])


def empty_figure(message):
    fig, ax = plt.subplots(figsize=(6, 2))
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.set_axis_off()
    return fig


def learning_curves(cube, x, bootstrap_seed):
    """Test RMSE vs trainer step (one panel per case x method) or vs forward evaluations (one per case)."""
    frame = history_frame(cube, ["test_rmse"])
    methods = [str(m) for m in cube["method"].values]
    if x == "step":
        grid = sns.relplot(data=frame, x="step", y="test_rmse", row="case", col="method", col_order=methods,
                           kind="line", errorbar=ERRORBAR, seed=bootstrap_seed, marker=".",
                           height=2.6, aspect=1.2, facet_kws={"sharex": False, "sharey": "row"})
        grid.set_axis_labels("step (epoch / update / assimilation)", "test RMSE")
    else:
        frame = frame[frame["n_forward"] > 0]  # the initial state costs nothing; log axis
        grid = sns.relplot(data=frame, x="n_forward", y="test_rmse", col="case", hue="method", hue_order=methods,
                           kind="line", errorbar=ERRORBAR, seed=bootstrap_seed, height=3.2, aspect=1.3,
                           facet_kws={"sharey": False})
        grid.set(xscale="log")
        for ax in grid.axes.flat:
            ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: minor labels overlap
        grid.set_axis_labels("cumulative forward evaluations", "test RMSE")
    grid.set(yscale="log")
    return grid.figure


def parameter_spread(cube, bootstrap_seed):
    """sqrt(trace C / p) vs ESMDA assimilation and EnKF update, one panel per case x DA method."""
    frame = history_frame(cube, ["param_spread"])
    frame = frame[frame["trainer"].isin(list(DA_TRAINERS))]
    if frame.empty:
        return empty_figure("no ensemble (EnKF / ESMDA) run completed")
    methods = [str(m) for m in cube["method"].values if str(m) in set(frame["method"])]
    grid = sns.relplot(data=frame, x="step", y="param_spread", row="case", col="method", col_order=methods,
                       kind="line", errorbar=ERRORBAR, seed=bootstrap_seed, marker=".", height=2.6,
                       aspect=1.3, facet_kws={"sharex": False})
    grid.set(yscale="log")
    grid.set_axis_labels("step (assimilation / update)", "parameter spread")
    return grid.figure


def final_rmse(cube, bootstrap_seed):
    """Final test RMSE of every seed (dots) and the mean with its 95% CI (diamond), per case."""
    frame = final_frame(cube, "final_test_rmse")
    methods = [str(m) for m in cube["method"].values]
    grid = sns.catplot(data=frame, x="method", y="final_test_rmse", col="case", order=methods, kind="strip",
                       color="0.55", alpha=0.7, jitter=False, height=3.2, aspect=1.1, sharey=False)
    grid.map_dataframe(sns.pointplot, x="method", y="final_test_rmse", order=methods, errorbar=ERRORBAR,
                       seed=bootstrap_seed, color="C3", linestyle="none", marker="D")
    grid.set(yscale="log")
    grid.set_axis_labels("method", "final test RMSE")
    return grid.figure


def keep_first_legend(axes):
    axes[0].legend(fontsize=6)
    for ax in axes[1:]:
        ax.get_legend().remove()


def case_grid(cube, case):
    """Test grid ``(T, n_in)``, truth ``(T,)`` and training data of one case, outer-join padding removed."""
    one = cube.sel(case=case)
    x_test = one["x_test"].dropna("test_point", how="all").dropna("input_dim", how="all")
    keep = x_test["test_point"]
    x_train = one["x_train"].dropna("train_point", how="all").dropna("input_dim", how="all")
    y_train = one["y_train"].sel(train_point=x_train["train_point"])
    return x_test.values, one["y_test"].sel(test_point=keep).values, x_train.values, y_train.values, keep


def fit(cube, case, seed):
    """Ensemble mean ± 2 std against the truth for one seed: a line plot (1 input) or heatmaps + a slice (2).

    Selections by method use dicts: ``method`` is also a keyword of ``DataArray.sel``.
    """
    x_test, truth, x_train, y_train, keep = case_grid(cube, case)
    methods = [str(m) for m in cube["method"].values]
    run = cube.sel(case=case, seed=seed, test_point=keep)
    status = {m: str(run["status"].sel({"method": m}).item()) for m in methods}
    title = {m: m if status[m] == "ok" else f"{m} ({status[m]})" for m in methods}
    if x_test.shape[1] == 1:
        fig, axes = plt.subplots(1, len(methods), figsize=(3.2 * len(methods), 3), sharey=True, squeeze=False)
        for ax, method in zip(axes[0], methods):
            mean = run["pred_mean"].sel({"method": method}).values
            std = run["pred_std"].sel({"method": method}).values
            sns.scatterplot(x=x_train[:, 0], y=y_train, s=8, color="0.6", ax=ax, label="training data")
            sns.lineplot(x=x_test[:, 0], y=truth, color="k", linestyle="--", ax=ax, label="truth")
            sns.lineplot(x=x_test[:, 0], y=mean, color="C0", ax=ax, label="ensemble mean")
            ax.fill_between(x_test[:, 0], mean - 2 * std, mean + 2 * std, color="C0", alpha=0.3, label="± 2 std")
            ax.set(title=title[method], xlabel="x", ylabel="y")
        keep_first_legend(axes[0])
        fig.suptitle(f"{case}: fit vs truth, seed {seed}")
        fig.tight_layout()
        return fig
    if x_test.shape[1] != 2:
        raise ValueError(f"case {case!r} has {x_test.shape[1]} inputs; fits are drawn for 1 or 2")
    n = int(round(np.sqrt(len(truth))))  # square lattice, first input varying slowest
    axis = x_test[::n, 0]
    fig, axes = plt.subplots(2, len(methods) + 1, figsize=(3.1 * (len(methods) + 1), 5.6), squeeze=False)
    labels = [f"{v:.1f}" if i % max(1, n // 4) == 0 else "" for i, v in enumerate(axis)]
    panels = [("truth", truth)] + [(title[m], run["pred_mean"].sel({"method": m}).values) for m in methods]
    for ax, (name, values) in zip(axes[0], panels):
        sns.heatmap(values.reshape(n, n), ax=ax, vmin=truth.min(), vmax=truth.max(), cmap="viridis",
                    xticklabels=labels, yticklabels=labels, cbar=ax is axes[0][-1])
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelrotation=0)
        ax.tick_params(axis="y", labelrotation=0)
        ax.set(title=name, xlabel="x2", ylabel="x1")
    row = slice((n // 2) * n, (n // 2 + 1) * n)  # the lattice row through the middle of x1
    axes[1][0].set_axis_off()
    axes[1][0].text(0.5, 0.5, f"slice x1 = {axis[n // 2]:.2f}\nensemble mean ± 2 std", ha="center", va="center")
    for ax, method in zip(axes[1][1:], methods):
        mean = run["pred_mean"].sel({"method": method}).values[row]
        std = run["pred_std"].sel({"method": method}).values[row]
        sns.lineplot(x=x_test[row, 1], y=truth[row], color="k", linestyle="--", ax=ax, label="truth")
        sns.lineplot(x=x_test[row, 1], y=mean, color="C0", ax=ax, label="mean")
        ax.fill_between(x_test[row, 1], mean - 2 * std, mean + 2 * std, color="C0", alpha=0.3)
        ax.set(title=title[method], xlabel="x2", ylabel="y")
    keep_first_legend(axes[1][1:])
    fig.suptitle(f"{case}: fit vs truth, seed {seed}")
    fig.tight_layout()
    return fig


def main(smk):
    redirect_to_log(smk.log[0])
    sns.set_theme(style="whitegrid", context="paper")
    cube = dio.read_netcdf(smk.input.summary)
    config_hash = cube.attrs["config_sha256"]
    bootstrap_seed = smk.params.bootstrap_seed
    out = smk.output
    if smk.rule == "figure_fit":
        save(fit(cube, smk.wildcards.case, smk.params.seed), out.png, out.pdf, config_hash)
    elif smk.rule == "figure_learning_curves":
        save(learning_curves(cube, "step", bootstrap_seed), out.step_png, out.step_pdf, config_hash)
        save(learning_curves(cube, "n_forward", bootstrap_seed), out.cost_png, out.cost_pdf, config_hash)
    elif smk.rule == "figure_parameter_spread":
        save(parameter_spread(cube, bootstrap_seed), out.png, out.pdf, config_hash)
    elif smk.rule == "figure_final_rmse":
        save(final_rmse(cube, bootstrap_seed), out.png, out.pdf, config_hash)
    else:
        raise ValueError(f"rule={smk.rule!r} has no figure in {__file__}")
    logging.info("%s: wrote %s", smk.rule, list(out))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
