"""envs/environment.yaml (conda route, not exercised by CI) mirrors the pip lock exactly."""
import yaml

from workflow_helpers import REPO


def test_conda_environment_pins_exactly_the_lock():
    env = yaml.safe_load((REPO / "envs" / "environment.yaml").read_text())
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    lock = [line.strip() for line in (REPO / "envs" / "requirements.lock").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    assert sorted(pip) == sorted(lock)
    assert (REPO / "envs" / "environment.post-deploy.sh").is_file()
