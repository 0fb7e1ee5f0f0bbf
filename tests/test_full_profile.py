"""The capped full run and what is built on it: capped_steps, StepTimes, lenient
expectations, the book's execution cache and the full-profile time table."""
import json

import nbformat
import pytest
import torch

import ganlib
from ganlib.expect import ExpectationFailed, strict_expectations
from ganlib.models import ToyDiscriminator, ToyGenerator
from ganlib.tools import bookcache, timings
from ganlib.train import StepTimes


def test_capped_steps_follows_the_cap(monkeypatch):
    monkeypatch.delenv("GANLIB_MAX_STEPS", raising=False)
    assert ganlib.capped_steps(1000) == 1000 and ganlib.train.max_steps() is None
    monkeypatch.setenv("GANLIB_MAX_STEPS", "3")
    assert ganlib.capped_steps(1000) == 3 and ganlib.capped_steps(2) == 2
    monkeypatch.setenv("GANLIB_MAX_STEPS", "three")
    with pytest.raises(ValueError, match="GANLIB_MAX_STEPS"):
        ganlib.capped_steps(10)


def test_step_times_records_each_capped_run(monkeypatch, tmp_path):
    path = tmp_path / "steps.jsonl"
    monkeypatch.setenv("GANLIB_MAX_STEPS", "4")
    monkeypatch.setenv("GANLIB_TIMINGS", str(path))
    monkeypatch.setenv("GANLIB_NOTEBOOK", "99_test")
    torch.manual_seed(0)
    G, D = ToyGenerator(latent_dim=2, hidden=8), ToyDiscriminator(hidden=8)
    data = ganlib.TensorBatches(torch.randn(320, 2), batch_size=32)
    history = ganlib.train_gan(G, D, data, epochs=3, progress=False)
    (record,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(history) == 4
    assert record["notebook"] == "99_test" and record["generator"] == "ToyGenerator"
    assert (record["steps_per_epoch"], record["epochs"], record["steps_done"], record["timed_steps"]) == (10, 3, 4, 3)
    assert record["g_params"] == sum(p.numel() for p in G.parameters())
    assert record["seconds_per_step"] > 0 and record["cpu_seconds_per_step"] > 0
    monkeypatch.delenv("GANLIB_TIMINGS")
    assert StepTimes.from_env() is None


def test_expectations_can_report_while_checks_stay_strict(monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    monkeypatch.delenv("GANLIB_STRICT_EXPECT", raising=False)
    assert strict_expectations()
    with pytest.raises(ExpectationFailed):
        ganlib.expect(False, expected="x", got="y", advice="z")
    monkeypatch.setenv("GANLIB_STRICT_EXPECT", "0")
    assert ganlib.expect(False, expected="x", got="y", advice="z") is False
    assert "Expected x; got y" in capsys.readouterr().out
    assert ganlib.checks.core.strict()  # exercise checks still raise
    monkeypatch.setenv("GANLIB_STRICT_EXPECT", "yes")
    with pytest.raises(ValueError, match="GANLIB_STRICT_EXPECT"):
        strict_expectations()


def _notebook(code):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter"), nbformat.v4.new_code_cell(code)]
    return nb


def test_book_cache_takes_matching_executed_notebooks_only(monkeypatch, tmp_path):
    from jupyter_cache import get_cache

    monkeypatch.delenv("GANLIB_MAX_STEPS", raising=False)
    executed, cache_path = tmp_path / "executed", tmp_path / "cache" / ".jupyter_cache"
    executed.mkdir()
    for name, stamp in [("01_a.ipynb", bookcache.build_stamp("quick")),
                        ("02_b.ipynb", bookcache.build_stamp("full")),
                        ("03_c.ipynb", {"profile": "quick", "ganlib": "an older ganlib"})]:
        nb = _notebook(f"print('{name}')")
        nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=name)]
        nb.metadata[bookcache.STAMP_KEY] = stamp
        nbformat.write(nb, executed / name)
    assert bookcache.fill_cache(executed, cache_path, "quick") == ["01_a.ipynb"]
    cache = get_cache(str(cache_path))
    _, merged = cache.merge_match_into_notebook(_notebook("print('01_a.ipynb')"))  # the source: no outputs
    assert merged.cells[1].outputs[0]["text"] == "01_a.ipynb"
    with pytest.raises(KeyError):
        cache.match_cache_notebook(_notebook("print('02_b.ipynb')"))
    # another profile empties the cache: the book never shows the other profile's outputs
    assert bookcache.fill_cache(executed, cache_path, "full") == ["02_b.ipynb"]
    with pytest.raises(KeyError):
        get_cache(str(cache_path)).match_cache_notebook(_notebook("print('01_a.ipynb')"))
    monkeypatch.setenv("GANLIB_MAX_STEPS", "2")
    assert bookcache.build_stamp("full") is None  # a capped run never reaches the book


def test_measure_adds_the_skipped_steps(tmp_path):
    records = tmp_path / "steps.jsonl"
    run = {"notebook": "04_x", "generator": "G", "discriminator": "D", "g_params": 1, "d_params": 1,
           "steps_per_epoch": 100, "epochs": 3, "first_step": 0, "steps_done": 12, "timed_steps": 11,
           "seconds_per_step": 0.5, "cpu_seconds_per_step": 0.25}
    records.write_text(json.dumps(run) + "\n" + json.dumps({"notebook": "04_x", "notebook_seconds": 20.0,
                                                         "notebook_cpu_seconds": 8.0}) + "\n")
    result = timings.measure(records, out=tmp_path / "times.json")
    assert result["cap"] == 12
    assert result["notebooks"]["04_x"]["full_seconds"] == pytest.approx(20 + (300 - 12) * 0.5)
    assert result["notebooks"]["04_x"]["full_cpu_seconds"] == pytest.approx(8 + (300 - 12) * 0.25)
    assert json.loads((tmp_path / "times.json").read_text()) == result


def test_instructors_page_shows_the_current_time_table():
    measurement = json.loads(timings.MEASUREMENT.read_text())
    page = timings.PAGE.read_text()
    assert timings.render_page(page, measurement) == page, (
        "book/instructors.md's time table is stale (new measurement or new model cards): "
        "run python -m ganlib.tools.timings")
    for name in measurement["notebooks"]:
        assert f"| {name} |" in page


def test_features_and_probabilities_in_one_pass_match_the_two_calls():
    from ganlib import metrics

    images = torch.rand(300, 1, 28, 28) * 2 - 1
    features, probs = metrics.classifier_features_and_probabilities(images, batch_size=128)
    assert torch.allclose(features, metrics.classifier_features(images), atol=1e-5)
    assert torch.allclose(probs, metrics.classifier_probabilities(images), atol=1e-5)
    assert torch.allclose(probs.sum(1), torch.ones(300), atol=1e-5)
