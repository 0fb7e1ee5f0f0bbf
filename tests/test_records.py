"""Recorded full-size experiments (ganlib.records, python -m ganlib.tools.record): a record
round-trips, refuses damage, and matches the code of the cells it was made from."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ganlib import records
from ganlib.tools import record as record_tool

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def small_record(monkeypatch, tmp_path, profile="full"):
    monkeypatch.setenv("GANLIB_PROFILE", profile)
    monkeypatch.setenv(records.RECORD_TO_ENV, str(tmp_path))
    arms = {"with": {"numbers": {"fid": np.float32(12.5), "covered": 10, "note": "ok"},
                     "curves": {"fid": (torch.arange(3), [30.0, 20.0, 12.5])},
                     "images": torch.linspace(-1, 1, 4 * 784).reshape(4, 1, 28, 28)},
            "without": {"numbers": {"fid": 40.0, "covered": 7, "note": "worse"},
                        "points": torch.randn(10, 2)}}
    return records.record_experiment("toy-ablation", arms, epochs=3)


def test_a_record_round_trips(monkeypatch, tmp_path):
    made = small_record(monkeypatch, tmp_path)
    loaded = records.load("toy-ablation", tmp_path)
    assert loaded.numbers("fid") == {"with": 12.5, "without": 40.0} == made.numbers("fid")
    assert loaded.arms["with"]["curves"]["fid"] == [[0, 1, 2], [30.0, 20.0, 12.5]]
    images = loaded.arms["with"]["images"]
    assert images.dtype == np.uint8 and images.shape == (4, 28, 28) and images.min() == 0 and images.max() == 255
    assert loaded.arms["without"]["points"].shape == (10, 2)
    assert torch.allclose(loaded.images("with"), torch.linspace(-1, 1, 4 * 784).reshape(4, 1, 28, 28), atol=1 / 127)
    assert loaded.facts["epochs"] == 3 and loaded.facts["profile"] == "full" and "hardware" in loaded.facts
    assert "| with | 12.50 | 10 |" in loaded.table(["fid", "covered"], {"fid": ".2f"})


def test_damaged_or_missing_records_are_refused(monkeypatch, tmp_path):
    small_record(monkeypatch, tmp_path)
    npz = tmp_path / "toy-ablation.npz"
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match the SHA-256"):
        records.load("toy-ablation", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"there: toy-ablation.*python -m ganlib.tools.record"):
        records.load("other", tmp_path)


def test_bad_arms_and_oversized_records_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(records.RECORD_TO_ENV, str(tmp_path))
    with pytest.raises(ValueError, match="give 'numbers'"):
        records.record_experiment("bad", {"a": {"images": torch.zeros(1, 1, 28, 28)}})
    with pytest.raises(ValueError, match="at least one arm"):
        records.record_experiment("bad", {})
    noise = torch.rand(3000, 1, 28, 28) * 2 - 1   # incompressible: about 2.3 MB
    with pytest.raises(ValueError, match="at most 1 MB"):
        records.record_experiment("big", {"a": {"numbers": {}, "images": noise}})
    assert not (tmp_path / "big.json").exists()


def test_the_quick_profile_shows_the_recording_and_the_full_profile_its_own_run(monkeypatch, tmp_path):
    recorded = small_record(monkeypatch, tmp_path)            # the "shipped" recording
    recorded.facts.update(recorded="2026-12-03", notebook="nb", minutes=12.0)
    recorded.save(tmp_path)
    monkeypatch.delenv(records.RECORD_TO_ENV)
    quick = small_record(monkeypatch, tmp_path / "unused", profile="quick")
    monkeypatch.delenv(records.RECORD_TO_ENV)
    shown = records.shown(quick, tmp_path)
    assert shown.recorded and "recorded full-size run" in shown.caption and "12 min" in shown.caption
    monkeypatch.setenv("GANLIB_PROFILE", "full")
    full = records.record_experiment("toy-ablation", {"a": {"numbers": {"fid": 1.0}}})
    assert records.shown(full, tmp_path) is full and "this page's run" in full.caption


def test_the_record_command_runs_the_tagged_cells_and_fingerprints_them(tmp_path):
    setup = "import ganlib\nPROFILE = ganlib.run_profile()"
    experiment = ("from ganlib.records import record_experiment\n"
                  "from ganlib.recipes import mlp_gan   # used: the record fingerprints its CONFIG\n"
                  "n = PROFILE.pick(quick=1, full=5)\n"
                  "record_experiment('tiny', {'arm': {'numbers': {'n': n, 'batch': mlp_gan.CONFIG.batch_size}}})")
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# A chapter"},
             {"cell_type": "code", "metadata": {}, "source": setup, "outputs": [], "execution_count": None},
             {"cell_type": "code", "metadata": {}, "source": "raise RuntimeError('not part of it')",
              "outputs": [], "execution_count": None},
             {"cell_type": "code", "metadata": {"tags": ["record:tiny"]}, "source": experiment,
              "outputs": [], "execution_count": None}]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "99_toy.ipynb").write_text(json.dumps(nb))
    environment = dict(os.environ)
    written = record_tool.record("99_toy", "tiny", threads=1, out=tmp_path / "out", folder=tmp_path / "nb")
    made = records.load("tiny", written.parent)
    assert made.numbers("n") == {"arm": 5}                 # ran in the full profile
    # only the kernel's environment: a leaked GANLIB_PROFILE=full made later notebooks on this
    # test worker train in the full profile (CI timed out)
    assert dict(os.environ) == environment
    assert made.facts["cells_sha256"] == records.cells_sha256(nb, "tiny")
    assert made.facts["configurations"] == records.configuration_fingerprints({"mlp_gan": ("batch_size",)})
    assert records.stale_reasons(nb, "tiny", made) == []
    assert made.facts["reproduce"] == "python -m ganlib.tools.record 99_toy tiny"
    nb["cells"][3]["source"] += "\n# changed"
    assert records.cells_sha256(nb, "tiny") != made.facts["cells_sha256"]


def test_every_tagged_experiment_has_a_current_record_and_every_record_a_chapter():
    tagged = record_tool.all_experiments(NOTEBOOKS)
    shipped = sorted(p.stem for p in records.RECORDS_DIR.glob("*.json"))
    assert sorted(tagged) == shipped, "make the missing records with python -m ganlib.tools.record"
    total = 0
    for name, stem in tagged.items():
        nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())
        made = records.load(name)
        assert made.facts["notebook"] == stem and made.facts["profile"] == "full"
        assert records.stale_reasons(nb, name, made) == []
        size = sum((records.RECORDS_DIR / f"{name}{s}").stat().st_size for s in (".json", ".npz"))
        assert size <= records.MAX_BYTES
        total += size
    assert total <= 10 * 2**20


def test_a_record_goes_stale_when_its_cells_or_a_configuration_they_read_change(monkeypatch):
    from ganlib.recipes import dcgan, mlp_gan, wgan_gp
    from ganlib.recipes.common import replace

    cell = ("from ganlib.recipes.common import replace\nfrom ganlib.recipes.dcgan import CONFIG\n"
            "from ganlib.recipes import wgan_gp, infogan\n%matplotlib inline\n"
            "ARM = replace(CONFIG, lr_g=2e-4, n_critic=wgan_gp.CONFIG.n_critic)\n"
            "steps = ganlib.recipes.mlp_gan.CONFIG.epochs")
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "import ganlib"},
                    {"cell_type": "code", "metadata": {"tags": ["record:toy"]}, "source": cell}]}
    # infogan is imported but unused: its configuration cannot change what the cells run
    assert records.recipes_read(nb, "toy") == ["dcgan", "mlp_gan", "wgan_gp"]
    # dcgan's CONFIG is passed to replace() (all of it matters); of the others, one field each
    assert records.configuration_reads(nb, "toy") == {"dcgan": records.WHOLE, "mlp_gan": ("epochs",),
                                                      "wgan_gp": ("n_critic",)}
    made = records.Record("toy", {"arm": {"numbers": {}}}, {
        "notebook": "99_toy", "cells_sha256": records.cells_sha256(nb, "toy"),
        "configurations": records.configuration_fingerprints(records.configuration_reads(nb, "toy"))})
    assert records.stale_reasons(nb, "toy", made) == []

    # A setting the cells use, or the epochs of a configuration they use whole: the record no
    # longer shows it.
    for recipe, changed in ((dcgan, {"lr_g": 5e-4}), (dcgan, {"epochs": 21}), (wgan_gp, {"n_critic": 3}),
                            (mlp_gan, {"epochs": 7})):
        with monkeypatch.context() as patch:
            patch.setattr(recipe, "CONFIG", replace(recipe.CONFIG, **changed))
            (reason,) = records.stale_reasons(nb, "toy", made)
            assert f"ganlib.recipes.{recipe.CONFIG.name}.CONFIG" in reason
            assert "python -m ganlib.tools.record 99_toy toy" in reason
    # A setting of wgan_gp's CONFIG that the cells never read (its networks, its epochs) does not
    # change what they ran.
    with monkeypatch.context() as patch:
        patch.setattr(wgan_gp, "CONFIG", replace(wgan_gp.CONFIG, epochs=3, lr_g=5e-4, generator_kwargs={}))
        assert records.stale_reasons(nb, "toy", made) == []
    # Reading a method or the whole configuration counts as reading every setting.
    for use in ("wgan_gp.CONFIG.networks()", "print(wgan_gp.CONFIG)", "wgan_gp.run([])",
                "ganlib.recipes.wgan_gp.CONFIG"):
        nb_use = {"cells": [nb["cells"][0], {**nb["cells"][1], "source": cell + "\n" + use}]}
        assert records.configuration_reads(nb_use, "toy")["wgan_gp"] is records.WHOLE, use
    # The cells use one configuration more, and their code changed: two reasons.
    nb["cells"][1]["source"] = cell + "\nprint(infogan.CONFIG)"
    assert len(records.stale_reasons(nb, "toy", made)) == 2
    # A record that does not say which configurations it ran cannot be vouched for.
    del made.facts["configurations"]
    assert any("does not say" in r for r in records.stale_reasons(nb, "toy", made))


def test_the_readme_table_of_recorded_experiments_is_current(tmp_path):
    readme = Path(record_tool.README).read_text()
    assert record_tool.BEGIN in readme and record_tool.END in readme
    block = readme.split(record_tool.BEGIN, 1)[1].split(record_tool.END, 1)[0].strip()
    assert block == record_tool.records_table(), "run python -m ganlib.tools.record --table"
