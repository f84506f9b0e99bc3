"""Bad configurations and targets stop Snakemake before any job runs, naming the key and the value;
nothing is written. Complements tests/workflow/test_config_validation.py (16 cases) with: an alpha of 0,
misspelled keys at every nesting level, wrong types (including YAML's `1e-2`, a string), negative
rates and noise, and targets that name an unknown case, method or seed."""
import copy
import subprocess
import sys

import pytest
import yaml

from reliability_helpers import raw_test_config
from workflow_helpers import copy_pipeline

pytestmark = pytest.mark.workflow

UNQUOTED = "<unquoted>"  # a string value written to the YAML file without quotes


def node(config, key):
    *parents, last = key.split(".")
    for parent in parents:
        config = config[parent]
    return config, last


def put(key, value):
    def edit(config):
        parent, last = node(config, key)
        parent[last] = value
    return edit


def rename(key, new):
    def edit(config):
        parent, last = node(config, key)
        parent[new] = parent.pop(last)
    return edit


def unquoted(key, text):
    """``key: text`` as a user would type it; PyYAML (YAML 1.1) reads `1e-2` as a string."""
    return put(key, UNQUOTED + text)


# (name, edit of config/test.yaml, targets, fragments the message must contain: key and value)
BAD = [
    ("zero alpha", put("methods.esmda.alphas", [2, 0]), [],
     ["On instance['methods']['esmda']['alphas']", "[2, 0] is not valid"]),
    ("EnKF ensemble of one", put("methods.enkf.n_members", 1), [],
     ["On instance['methods']['enkf']['n_members']", "1 is less than the minimum of 2"]),
    ("negative obs noise", put("methods.esmda.obs_std", -0.1), [],
     ["On instance['methods']['esmda']['obs_std']", "-0.1 is less than or equal to the minimum of 0"]),
    ("negative learning rate", put("methods.gd.learning_rate", -0.1), [],
     ["On instance['methods']['gd']['learning_rate']", "-0.1 is less than or equal to the minimum of 0"]),
    ("YAML 1e-2 is a string", unquoted("methods.adam.learning_rate", "1e-2"), [],
     ["On instance['methods']['adam']['learning_rate']", "'1e-2' is not of type 'number'"]),
    ("a number for a list", put("cases.sine.model.hidden", 4), [],
     ["On instance['cases']['sine']['model']['hidden']", "4 is not of type 'array'"]),
    ("misspelled top-level key", rename("seeds", "seed"), [], ["'seed' was unexpected"]),
    ("misspelled dataset key", rename("cases.mexican_hat.dataset.noise_std", "noise_sd"), [],
     ["On instance['cases']['mexican_hat']['dataset']", "'noise_sd' was unexpected"]),
    ("misspelled model key", rename("cases.sine.model.activation", "activaton"), [],
     ["On instance['cases']['sine']['model']", "'activaton' was unexpected"]),
    ("misspelled EnKF key", rename("methods.enkf.inflation", "inflaton"), [],
     ["On instance['methods']['enkf']", "'inflaton' was unexpected"]),
    ("misspelled analysis key", rename("analysis.confidence", "confidense"), [],
     ["On instance['analysis']", "'confidense' was unexpected"]),
    ("run of an unknown case", None, ["results/runs/cosine/gd/seed0.nc"],
     ["case='cosine' is not in config['cases']"]),
    ("dataset of an unknown case", None, ["data/cosine.nc"], ["case='cosine' is not in config['cases']"]),
    ("run of an unknown method", None, ["results/runs/sine/sgd/seed0.nc"],
     ["method='sgd' is not in config['methods']"]),
    ("run of an unknown seed", None, ["results/runs/sine/gd/seed99.nc"], ["seed=99 is not in config['seeds']"]),
]


@pytest.fixture(scope="module")
def rejections(tmp_path_factory):
    """Dry-run every case at once (in parallel); name -> (returncode, output, workdir)."""
    running = {}
    for name, edit, targets, _ in BAD:
        workdir = copy_pipeline(tmp_path_factory.mktemp(name.replace(" ", "_")))
        config = copy.deepcopy(raw_test_config())
        if edit is not None:
            edit(config)
        text = yaml.safe_dump(config, sort_keys=False).replace(UNQUOTED, "")
        (workdir / "config" / "bad.yaml").write_text(text)
        command = [sys.executable, "-m", "snakemake", "-n", "--configfile", "config/bad.yaml",
                   "--replace-workflow-config", *targets]
        running[name] = (subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True), workdir)
    return {name: (process.communicate(timeout=300)[0], process.returncode, workdir)
            for name, (process, workdir) in running.items()}


@pytest.mark.parametrize("name, edit, targets, fragments", BAD, ids=[case[0] for case in BAD])
def test_bad_config_or_target_is_rejected_before_any_job(rejections, name, edit, targets, fragments):
    output, returncode, workdir = rejections[name]
    assert returncode != 0, output
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    assert not [path for path in ("results", "logs", "benchmarks") if (workdir / path).exists()]
    assert not list(workdir.glob("data/*.nc"))
