# Helpers of the rules beyond the paper (extension.smk, sweeps.smk): checks of the
# analysis.budget, analysis.claims and sweeps keys, wildcard constraints, and the
# lists of outputs and per-job parameters.
from datrain import sweeps as dsweeps


def check_extension_config(config):
    """Cross-key checks of analysis.budget, analysis.claims and sweeps (the schema has checked types)."""
    methods = config["methods"]
    reference = config["analysis"]["budget"]["reference"]
    if reference not in methods:
        config_error("analysis.budget.reference", reference, f"is not one of the methods {sorted(methods)}")
    claims = config["analysis"]["claims"]
    for key in ("optimiser", "adaptive", "fixed_schedule", "deep_ensemble"):
        if claims[key] is not None and claims[key] not in methods:
            config_error(f"analysis.claims.{key}", claims[key], f"is not one of the methods {sorted(methods)}")
    unknown = [m for m in claims["da_methods"] if m not in methods]
    if unknown:
        config_error("analysis.claims.da_methods", claims["da_methods"], f"{unknown} are not methods {sorted(methods)}")
    try:
        dsweeps.check_sweeps(config)
    except ValueError as error:
        raise ValueError(f"Invalid configuration: {error}") from None


check_extension_config(config)

EXTENSION_TABLES = ["equal_budget.csv", "equal_budget.md", "calibration.csv", "calibration.md",
                    "claims.csv", "claims.md"]
EXTENSION_FIGURES = ["equal_budget", "calibration"]


def claims_sweep_cubes(wildcards):
    """Sweep cubes the claims table draws on: all of them if the sweeps are part of the default target."""
    return sweep_cubes() if config["sweeps"]["in_default_target"] else []


def claims_sweep_kinds(wildcards):
    """Per sweep: True if it changes only trainer settings (the claims then reuse the other methods' main runs)."""
    return {sweep: dsweeps.trainer_only(grid) for sweep, grid in config["sweeps"]["grids"].items()}


def extension_outputs():
    """What rule all builds beyond the paper's comparison (plus the sweeps if in_default_target)."""
    outputs = [f"results/tables/{name}" for name in EXTENSION_TABLES] + [
        f"results/figures/{name}.{ext}" for name in EXTENSION_FIGURES for ext in ("png", "pdf")]
    return outputs + (sweep_outputs() if config["sweeps"]["in_default_target"] else [])


wildcard_constraints:
    sweep="[A-Za-z][A-Za-z0-9_]*",
    point="[A-Za-z0-9_.=,+-]+",


SWEEP_GRIDS = config["sweeps"]["grids"]
SWEEP_RUN = "results/sweeps/{sweep}/{point}/{case}/{method}.nc"


def sweep_jobs(sweep):
    """``(point, case, method)`` of every job of ``sweep``, points in grid order."""
    grid = SWEEP_GRIDS[sweep]
    return [(point, case, method) for point, _ in dsweeps.grid_points(grid) for case in CASES
            for method in grid["methods"]]


def sweep_run_files(wildcards):
    return [SWEEP_RUN.format(sweep=wildcards.sweep, point=point, case=case, method=method)
            for point, case, method in sweep_jobs(wildcards.sweep)]


def sweep_dataset(wildcards):
    """The data of a sweep job: the case's own data set, or the point's one if the grid changes the data."""
    if dsweeps.changes_data(SWEEP_GRIDS[wildcards.sweep]):
        return f"data/sweeps/{wildcards.sweep}/{wildcards.point}/{wildcards.case}.nc"
    return f"data/{wildcards.case}.nc"


def sweep_dataset_parameters(wildcards):
    """What determines a sweep point's data set: the case's settings changed by the point (noise_std)."""
    job = dsweeps.resolve_point(config, wildcards.sweep, wildcards.point, wildcards.case,
                                SWEEP_GRIDS[wildcards.sweep]["methods"][0])
    return {"case": wildcards.case, "base_seed": config["base_seed"], "dataset": job["runs"][0]["dataset"]}


def sweep_job(wildcards):
    """The resolved runs of one sweep job (datrain.sweeps.resolve_point)."""
    return dsweeps.resolve_point(config, wildcards.sweep, wildcards.point, wildcards.case, wildcards.method)


def sweep_spec(wildcards):
    grid = SWEEP_GRIDS[wildcards.sweep]
    return {"sweep": wildcards.sweep, "grid": grid, "seeds": config["sweeps"]["seeds"],
            "base_seed": config["base_seed"], "trainer_only": dsweeps.trainer_only(grid),
            "options": {key: config["sweeps"][key] for key in ("record_every", "geometric_first_to_last")}}


def sweep_keys(wildcards):
    return sweep_jobs(wildcards.sweep)


def sweep_reference_methods(wildcards):
    return SWEEP_GRIDS[wildcards.sweep].get("references", [])


def sweep_points(wildcards):
    return dsweeps.grid_points(SWEEP_GRIDS[wildcards.sweep])


def sweep_references(wildcards):
    """The main summary cube, if the sweep shows main-run methods beside its own."""
    return ["results/summary.nc"] if SWEEP_GRIDS[wildcards.sweep].get("references") else []


def sweep_cubes():
    return [f"results/sweeps/{sweep}.nc" for sweep in SWEEP_GRIDS]


def sweep_outputs():
    return sweep_cubes() + [f"results/{kind}/sweep_{sweep}.{ext}" for sweep in SWEEP_GRIDS
                            for kind, exts in (("tables", ("csv", "md")), ("figures", ("png", "pdf")))
                            for ext in exts]
