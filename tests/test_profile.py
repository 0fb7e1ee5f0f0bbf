"""The run profile switches in a running session (Colab and Jupyter) and warns
before a full run on a CPU; ``ganlib.expect`` judges runs without crashing a
student's notebook."""
import json
from pathlib import Path

import pytest

import ganlib
from ganlib import profile

ROOT = Path(__file__).resolve().parents[1]
CHAPTER0 = ROOT / "notebooks" / "00_how_to_use_this_book.ipynb"


def setup_cell_source() -> str:
    cells = json.loads(CHAPTER0.read_text())["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


def test_switching_with_percent_env_and_rerunning_the_setup_cell_needs_no_restart(monkeypatch, capsys):
    """What chapter 0 and the printed hint tell a reader to do, done in one IPython session."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("GANLIB_PROFILE", "full")
    monkeypatch.setattr(profile, "cuda_available", lambda: True)
    shell = InteractiveShell.instance()
    try:
        shell.run_cell(setup_cell_source(), store_history=False).raise_error()
        assert shell.user_ns["PROFILE"].name == "full"
        hint = capsys.readouterr().out
        assert "%env GANLIB_PROFILE=quick" in hint and "re-run this setup cell" in hint
        assert "before starting the kernel" not in hint and "restart" not in hint.replace("no restart", "")
        shell.run_cell("%env GANLIB_PROFILE=quick", store_history=False).raise_error()
        shell.run_cell(setup_cell_source(), store_history=False).raise_error()
        assert shell.user_ns["PROFILE"].quick, "re-running the setup cell must pick up %env"
        assert "Run profile: quick" in capsys.readouterr().out
    finally:
        InteractiveShell.clear_instance()


def test_use_profile_switches_for_the_next_run_profile_call(monkeypatch):
    monkeypatch.setenv("GANLIB_PROFILE", "full")
    assert ganlib.run_profile().name == "full"
    assert ganlib.use_profile("Quick").quick
    assert ganlib.run_profile().quick
    ganlib.use_profile("full")
    assert ganlib.run_profile().name == "full"
    with pytest.raises(ValueError, match="%env GANLIB_PROFILE=quick"):
        ganlib.use_profile("fast")


def test_full_profile_without_cuda_warns_with_time_and_how_to_switch(monkeypatch):
    monkeypatch.setattr(profile, "cuda_available", lambda: False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("GANLIB_NOTEBOOK", "05_dcgan")
    text = str(ganlib.run_profile("full"))
    assert "WARNING: no CUDA GPU" in text
    assert "chapter 5 (05_dcgan)" in text                                # the chapter the reader is in
    assert "Change runtime type" in text and "%env GANLIB_PROFILE=quick" in text  # two ways out
    monkeypatch.setattr(profile, "cuda_available", lambda: True)
    assert "WARNING" not in str(ganlib.run_profile("full"))
    monkeypatch.setattr(profile, "cuda_available", lambda: False)
    assert "WARNING" not in str(ganlib.run_profile("quick"))  # quick is fine on a CPU


MEASURED = json.loads((ROOT / "benchmarks" / "full_profile_times.json").read_text())


def test_cpu_warning_quotes_the_measured_time_of_the_readers_chapter(monkeypatch):
    """The times come from benchmarks/full_profile_times.json (the instructors' table), never typed in."""
    for stem, entry in MEASURED["notebooks"].items():
        text = profile.full_on_cpu_warning(stem)
        assert f"this notebook, {profile._chapter(stem)} ({stem}), takes about " \
               f"{profile.duration(entry['full_cpu_seconds'])}" in text
    total = sum(e["full_cpu_seconds"] for e in MEASURED["notebooks"].values())
    assert f"the whole book about {profile.duration(total)}" in text
    assert profile.full_on_cpu_warning("05_dcgan").count("chapter 5 (05_dcgan)") == 1
    assert "chapter 5's Keras companion" in profile.full_on_cpu_warning("05_dcgan_keras")
    assert profile.duration(6424.6) == "1.8 h" and profile.duration(638.2) == "11 min"
    # a notebook the reader's front end does not name: the slowest chapter, and the whole book
    slowest = max(MEASURED["notebooks"], key=lambda n: MEASURED["notebooks"][n]["full_cpu_seconds"])
    assert f"up to about {profile.duration(MEASURED['notebooks'][slowest]['full_cpu_seconds'])}" \
        in profile.full_on_cpu_warning("some_notebook")
    # pip-installed (no benchmarks/ folder): no number, rather than a stale one
    bare = profile.full_on_cpu_warning("05_dcgan", measurement={})
    assert "minutes to hours" in bare and not any(ch.isdigit() for ch in bare.split("Either")[0])


def test_the_notebook_is_named_by_the_runner_jupyter_or_vs_code(monkeypatch):
    for var in profile.NOTEBOOK_ENVS:
        monkeypatch.delenv(var, raising=False)
    assert profile.current_notebook() is None
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/me/course/notebooks/07_wgan.ipynb")
    assert profile.current_notebook() == "07_wgan"
    monkeypatch.setenv("GANLIB_NOTEBOOK", "04_mlp_gan")
    assert profile.current_notebook() == "04_mlp_gan"


def test_chapter0_teaches_the_switch_that_works():
    text = "\n".join("".join(c["source"]) for c in json.loads(CHAPTER0.read_text())["cells"]
                     if c["cell_type"] == "markdown")
    text = " ".join(text.split())  # wherever the lines wrap
    assert "%env GANLIB_PROFILE=quick" in text and "re-run the setup cell" in text
    assert "Restart session" not in text and "before** the kernel starts" not in text


# --- ganlib.expect ----------------------------------------------------------

def test_expect_passes_silently(monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    assert ganlib.expect(0.5 > 0.3, expected="x", got="y", advice="z") is True
    assert capsys.readouterr().out == ""


def test_expect_prints_expected_got_and_advice_in_a_students_run(monkeypatch, capsys):
    monkeypatch.delenv("GANLIB_STRICT_CHECKS", raising=False)
    ok = ganlib.expect(0.12 > 0.3, expected="a confident share above 30%", got="12.0%",
                       advice="train longer (raise EPOCHS)")
    out = capsys.readouterr().out
    assert ok is False
    assert "a confident share above 30%" in out and "12.0%" in out and "raise EPOCHS" in out


def test_expect_raises_in_strict_mode(monkeypatch):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="Expected a confident share above 30%; got 12.0%"):
        ganlib.expect(False, expected="a confident share above 30%", got="12.0%", advice="train longer")


def test_caption_says_what_a_quick_figure_is_and_where_the_real_one_is():
    from ganlib.profile import RunProfile

    assert RunProfile("full").caption("this run", "see below") == "this run"
    quick = RunProfile("quick").caption("this run", "the shipped generator is below")
    assert quick.startswith("this run\n") and "still noise" in quick and "shipped generator is below" in quick
