"""The real entry point, in a subprocess, as a user runs it."""
from tests.conftest import TINY_OVERRIDES, run_entry_point
from tests.test_plugin_manager import write_entry_point_package


def test_tiny_run_prints_metrics_and_exits_zero(tmp_path):
    result = run_entry_point([*TINY_OVERRIDES, f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    final = [line for line in result.stdout.splitlines() if line.startswith("[finished]")]
    assert len(final) == 1
    for key in ("eval/train_loss", "eval/train_acc", "eval/test_loss", "eval/test_acc", "effective_rank"):
        assert key in final[0]
    assert "step/s" in result.stderr  # the progress bar
    assert (tmp_path / "run" / ".hydra" / "config.yaml").exists()


def test_multirun_over_seeds(tmp_path):
    result = run_entry_point(["-m", "seed=0,1", *TINY_OVERRIDES, f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("[finished]") == 2
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir() if p.is_dir()) == ["0", "1"]


def test_bad_config_fails_before_training(tmp_path):
    result = run_entry_point([*TINY_OVERRIDES, "net.type=GPT", f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert result.returncode != 0
    assert "net.type='GPT'" in result.stderr and "GrokkingTransformer_pytorch_implementation" in result.stderr
    assert "step/s" not in result.stderr


def test_third_party_plugin_from_an_installed_entry_point(tmp_path):
    write_entry_point_package(tmp_path)
    run_dir = tmp_path / "run"
    result = run_entry_point(
        [*TINY_OVERRIDES, "telemetry.plugins=[console,demo]", f"hydra.run.dir={run_dir}"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert (run_dir / "demo_plugin_saw.txt").read_text().startswith("finished")
