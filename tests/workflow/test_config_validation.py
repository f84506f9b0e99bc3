"""Bad configurations stop Snakemake before any job runs, naming the key and the value."""
import copy
import subprocess
import sys

import pytest
import yaml

from workflow_helpers import REPO, copy_pipeline

pytestmark = pytest.mark.workflow


def put(config, path, value):
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[last] = value


# (name, dotted key to change, new value, fragments the error message must contain: key and value)
BAD = [
    ("unknown trainer", "methods.gd.trainer", "sgd", ["['methods']['gd']['trainer']", "'sgd' is not one of"]),
    ("unknown problem", "cases.sine.dataset.problem", "cosine",
     ["['cases']['sine']['dataset']['problem']", "'cosine' is not one of"]),
    ("ensemble of one", "methods.esmda.n_members", 1,
     ["['methods']['esmda']['n_members']", "1 is less than the minimum of 2"]),
    ("zero obs noise", "methods.enkf.obs_std", 0,
     ["['methods']['enkf']['obs_std']", "0 is less than or equal to the minimum of 0"]),
    ("negative alpha", "methods.esmda.alphas", [2, -1], ["['methods']['esmda']['alphas']", "[2, -1]"]),
    ("no hidden layer", "cases.sine.model.hidden", [], ["['cases']['sine']['model']['hidden']", "[] should be non-empty"]),
    ("negative seed", "seeds", [0, -1], ["['seeds'][1]", "-1 is less than the minimum of 0"]),
    ("fractional seed", "seeds", [0, 1.5], ["['seeds'][1]", "1.5 is not of type 'integer'"]),
    ("integral float", "methods.gd.epochs", 40.0, ["methods.gd.epochs=40.0", "must be an integer"]),
    ("duplicate seeds", "seeds", [0, 1, 1], ["seeds=[0, 1, 1]", "duplicate value(s) [1]"]),
    ("zero learning rate", "methods.adam.learning_rate", 0,
     ["['methods']['adam']['learning_rate']", "0 is less than or equal to the minimum of 0"]),
    ("string for a number", "cases.mexican_hat.dataset.noise_std", "0.1",
     ["['cases']['mexican_hat']['dataset']['noise_std']", "'0.1' is not of type 'number'"]),
    ("misspelled key", "methods.gd.learnin_rate", 0.1, ["On instance['methods']['gd']", "'learnin_rate' was unexpected"]),
    ("reversed domain", "cases.sine.dataset.domain", [3.0, -3.0],
     ["cases.sine.dataset.domain=[3.0, -3.0]", "needs low < high"]),
    ("alphas not summing to one", "methods.esmda.normalize", False, ["methods.esmda.alphas=[2, 3]", "sum(1/alpha)"]),
    ("unknown baseline", "analysis.baseline", "sgd", ["analysis.baseline='sgd'", "is not one of the methods"]),
]


@pytest.fixture(scope="module")
def rejections(tmp_path_factory):
    """Dry-run every bad config at once (in parallel); returns name -> (returncode, output, workdir)."""
    base = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    base["methods"]["esmda"]["alphas"] = [2, 3]  # so that normalize: false breaks sum(1/alpha) = 1
    running = {}
    for name, key, value, _ in BAD:
        workdir = copy_pipeline(tmp_path_factory.mktemp(name.replace(" ", "_")))
        config = copy.deepcopy(base)
        put(config, key, value)
        (workdir / "config" / "bad.yaml").write_text(yaml.safe_dump(config))
        running[name] = (subprocess.Popen(
            [sys.executable, "-m", "snakemake", "-n", "--configfile", "config/bad.yaml",
             "--replace-workflow-config"], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True), workdir)
    return {name: (process.wait(timeout=300), process.stdout.read(), workdir)
            for name, (process, workdir) in running.items()}


@pytest.mark.parametrize("name, key, value, fragments", BAD, ids=[case[0] for case in BAD])
def test_bad_config_is_rejected_before_any_job(rejections, name, key, value, fragments):
    returncode, output, workdir = rejections[name]
    assert returncode != 0, output
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    assert not (workdir / "results").exists() and not list(workdir.glob("data/*.nc"))
