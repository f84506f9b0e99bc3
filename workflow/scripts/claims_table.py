"""Rule `claims`: the claims table (detail CSV + Markdown summary) from results/summary.nc and, if the
sweeps are part of the default target, the sweep cubes. Every number comes from datrain.claims."""
import logging

import numpy as np
import pandas as pd

from datrain import claims
from datrain import io as dio

from joblog import redirect_to_log


def interval(row, digits=4) -> str:
    """``difference [low, high]``; a dash without data."""
    if not np.isfinite(row["difference"]):
        return "—"
    if not np.isfinite(row["ci_low"]):
        return f"{row['difference']:+.{digits}f}"
    return f"{row['difference']:+.{digits}f} [{row['ci_low']:+.{digits}f}, {row['ci_high']:+.{digits}f}]"


def summary_markdown(detail: pd.DataFrame) -> str:
    """The per-claim summary table (also used for the README)."""
    summary = claims.claims_summary(detail)
    shown = pd.DataFrame({
        "claim": summary["claim"], "metrics": summary["metrics"], "verdict": summary["verdict"],
        "holds in (rows)": summary["holds_in"], "where it holds": summary["holds_for"],
    })
    return shown.to_markdown(index=False)


def groups_markdown(detail: pd.DataFrame) -> str:
    groups = claims.claims_by_group(detail)
    shown = pd.DataFrame({
        "claim": groups["claim"].map(claims.SHORT), "settings": groups["setting_group"], "verdict": groups["verdict"],
        "holds in": groups["holds_in"], "undetermined": groups["undetermined"], "where it holds": groups["holds_for"],
    })
    return shown.to_markdown(index=False)


def main_markdown(detail: pd.DataFrame, confidence: float) -> str:
    """Paired differences of the main setting, one row per claim x case x comparison x metric."""
    main = detail[detail["setting"] == "main"]
    shown = pd.DataFrame({
        "claim": main["claim"].map(claims.SHORT), "case": main["case"], "comparison": main["comparison"],
        "metric": main["metric"], f"mean difference [{confidence:.0%} CI]": main.apply(interval, axis=1),
        "seeds": main["n_seeds"], "verdict": main["verdict"], "note": main["note"],
    })
    return shown.to_markdown(index=False)


def explanation(confidence: float, baseline: str) -> str:
    return (f"Each row compares two methods by the paired difference over seeds (method minus reference, same "
            f"seed: same data and initial-weight stream) with a {confidence:.0%} Student-t interval. A row holds "
            "when the whole interval lies on the favourable side of 0 (lower RMSE / CRPS / coverage error or "
            "parameter spread, higher R²), is undetermined with fewer than two paired seeds (e.g. a diverged "
            f"baseline), and does not hold otherwise. Settings: 'main' = final scores of the main runs; 'equal "
            f"budget' = every method stopped at k times the reference method's training cost; 'sweep <name>' = "
            f"one setting per sweep grid point (methods not in the sweep taken from the main runs of the same "
            f"seeds when the sweep changes only trainer settings). Baseline of the paper's claim: {baseline}.")


def sweep_extra_settings(paths, trainer_only, main):
    """``{"sweep <name>": {point: scores}}`` for every sweep cube."""
    extra = {}
    for path in paths:
        cube = dio.read_netcdf(path)
        name = cube.attrs["sweep"]
        extra[f"sweep {name}"] = claims.sweep_settings(cube, main if trainer_only[name] else None)
    return extra


def main(smk):
    redirect_to_log(smk.log[0])
    cube = dio.read_netcdf(smk.input.summary)
    config_hash = cube.attrs["config_sha256"]
    spec, budget = smk.params.claims, smk.params.budget
    baseline, confidence = smk.params.baseline, smk.params.confidence
    extra = sweep_extra_settings(smk.input.sweeps, smk.params.trainer_only, cube)
    detail = claims.claims_table(
        cube, spec["da_methods"], baseline, extra, optimiser=spec["optimiser"],
        budget_reference=budget["reference"], budget_multiples=budget["multiples"], adaptive=spec["adaptive"],
        fixed_schedule=spec["fixed_schedule"], deep_ensemble=spec["deep_ensemble"], confidence=confidence)
    csv = detail.copy()
    csv["config_sha256"] = config_hash
    with dio.atomic_output(smk.output.csv) as tmp:
        csv.to_csv(tmp, index=False, float_format="%.6g")
    sweeps = ", ".join(sorted(extra)) or "none (the sweeps are not part of the default target)"
    text = "\n".join([
        "# Claims table", "", f"Summary config SHA-256: `{config_hash}`; sweeps included: {sweeps}.", "",
        explanation(confidence, baseline), "", "## Verdict per claim", "", summary_markdown(detail), "",
        "## Verdict per claim and group of settings", "", groups_markdown(detail), "",
        "## Main setting: paired differences", "", main_markdown(detail, confidence), "",
        "Every row of every setting is in `results/tables/claims.csv`.", ""])
    with dio.atomic_output(smk.output.md) as tmp:
        tmp.write_text(text)
    logging.info("claims: %d rows; verdicts %s", len(detail),
                 claims.claims_summary(detail)[["claim", "verdict"]].to_dict("records"))


if __name__ == "__main__":
    main(snakemake)  # noqa: F821 (injected by Snakemake)
