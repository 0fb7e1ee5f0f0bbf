"""InfoGAN (chapter 8): its latent codes, its Q head trained in G's step through the
shared loop, the code/digit agreement, the recipe, the checks, and the Keras Q loss
agreeing with the PyTorch one."""
import json
import math

import numpy as np
import pytest
import torch

import ganlib
from ganlib import losses
from ganlib.checks import check_lsgan_optimal_discriminator, check_mi_lower_bound
from ganlib.latent import InfoGANCodes, latent_sampler
from ganlib.metrics.codes import best_assignment, code_digit_agreement
from ganlib.metrics.scoring import sample_images
from ganlib.models.infogan import InfoGANGenerator, code_grid
from ganlib.recipes.common import replace
from ganlib.recipes.infogan import CONFIG, agreement_card

SMALL = replace(CONFIG, generator_kwargs={**CONFIG.generator_kwargs, "width": 8, "q_in_features": 32},
                discriminator_kwargs={"width": 8, "feature_dim": 32})


def test_codes_sampler_draws_noise_one_hot_and_uniform_codes():
    sampler = InfoGANCodes(5, n_categories=4, n_continuous=2)
    latents = sampler(1000, None, "cpu")
    (x,) = latents.g_inputs
    assert x.shape == (1000, 5 + 4 + 2) and latents.d_inputs == ()
    c, u = latents.codes["categorical"], latents.codes["continuous"]
    assert torch.equal(x[:, 5:9], torch.nn.functional.one_hot(c, 4).float()) and torch.equal(x[:, 9:], u)
    assert u.min() >= -1 and u.max() <= 1 and abs(u.mean()) < 0.05 and abs(u.var() - 1 / 3) < 0.03
    assert set(c.tolist()) == {0, 1, 2, 3}


def test_fixed_codes_are_balanced_and_repeatable():
    sampler = InfoGANCodes(3, 10, 2)
    a, b = sampler.fixed(40, seed=7), sampler.fixed(40, seed=7)
    assert torch.equal(a.g_inputs[0], b.g_inputs[0])
    assert torch.equal(a.codes["categorical"], torch.arange(40) % 10)
    assert not torch.equal(a.g_inputs[0], sampler.fixed(40, seed=8).g_inputs[0])


def test_compose_checks_its_inputs():
    sampler = InfoGANCodes(3, 4, 1)
    with pytest.raises(ValueError, match="expected z"):
        sampler.compose(torch.zeros(2, 3), torch.zeros(3), torch.zeros(2, 1))
    with pytest.raises(ValueError, match="0..3"):
        sampler.compose(torch.zeros(2, 3), torch.tensor([0, 4]), torch.zeros(2, 1))
    with pytest.raises(ValueError, match="n_categories"):
        InfoGANCodes(3, 1, 1)


def test_generator_declares_its_codes_and_the_scoreboard_samples_it_without_labels():
    G = InfoGANGenerator(noise_dim=6, width=8, q_in_features=32)
    sampler = latent_sampler(G)
    assert isinstance(sampler, InfoGANCodes) and sampler.input_dim == 6 + 10 + 2
    images, labels = sample_images(G, 30, seed=0)
    assert images.shape == (30, 1, 28, 28) and labels is None   # the code is not a requested digit
    with pytest.raises(ValueError, match="InfoGANCodes"):
        G(torch.zeros(2, 6))


def test_q_is_trained_in_g_step_and_d_body_never_by_the_info_term():
    ganlib.seed_everything(0)
    G, D = SMALL.networks()
    kwargs = SMALL.train_kwargs(G, D)
    latents = kwargs["latents"](16, None, "cpu")
    fake = G(*latents.g_inputs)
    extra = kwargs["g_extra_loss"]
    before_d = {k: v.clone() for k, v in D.state_dict().items()}
    before_q = [p.detach().clone() for p in G.q.parameters()]
    # only the information term, through the loop's own G step (D frozen inside)
    ganlib.train.g_step(D, kwargs["optimizers"][0], lambda out: out.sum() * 0, fake, (),
                        extra_loss=lambda f: extra(f, None, latents))
    assert all(torch.equal(before_d[k], v) for k, v in D.state_dict().items() if "running" not in k
               and "num_batches" not in k)
    assert all(p.requires_grad for p in D.parameters())                      # unfrozen afterwards
    assert any(not torch.equal(a, p.detach()) for a, p in zip(before_q, G.q.parameters()))


def test_q_with_a_learned_std_returns_positive_stds_that_the_info_term_trains():
    ganlib.seed_everything(0)
    learned = replace(SMALL, generator_kwargs={**SMALL.generator_kwargs, "q_learn_std": True})
    G, D = learned.networks()
    logits, means, stds = G.q(D.features(torch.rand(16, 1, 28, 28) * 2 - 1))
    assert logits.shape == (16, 10) and means.shape == stds.shape == (16, 2)
    assert bool((stds >= math.exp(-5) - 1e-9).all() and (stds <= math.exp(2) + 1e-6).all())
    kwargs = learned.train_kwargs(G, D)
    latents = kwargs["latents"](16, None, "cpu")
    term = kwargs["g_extra_loss"](G(*latents.g_inputs), None, latents)
    term.backward()
    std_rows = G.q.net[-1].weight.grad[10 + 2:]                 # the rows that predict the log-stds
    assert std_rows.abs().sum() > 0                            # the likelihood trains them
    assert len(SMALL.networks()[0].q(D.features(torch.rand(4, 1, 28, 28)))) == 2   # default: means only


def test_info_term_falls_when_trained_and_checkpoint_keeps_q(tmp_path):
    ganlib.seed_everything(0)
    G, D = SMALL.networks()
    data = ganlib.TensorBatches(torch.rand(256, 1, 28, 28) * 2 - 1, batch_size=32)
    kwargs = SMALL.train_kwargs(G, D)
    term = kwargs["g_extra_loss"]

    def q_loss():  # in training mode (batch statistics), as the loop computes it
        with torch.no_grad():
            lat = kwargs["latents"].fixed(256, seed=5)
            return term(G(*lat.g_inputs), None, lat).item()

    start = q_loss()
    assert start > math.log(10) - 0.3                      # at first Q reads nothing: CE about log 10
    ganlib.train_gan(G, D, data, epochs=8, progress=False, checkpoint=tmp_path / "ck.pt", **kwargs)
    assert q_loss() < start - 1.0                          # Q learned to read the codes back
    state = ganlib.train.read_checkpoint(tmp_path / "ck.pt")
    assert any(k.startswith("q.") for k in state["generator"])   # Q's weights travel with G's
    assert f"infogan_info_loss(cat_weight=1, cont_weight={SMALL.cont_weight:g})" in state["fingerprint"]["g_extra_loss"]


def test_best_assignment_finds_the_permutation():
    perm = [3, 0, 9, 1, 2, 8, 4, 7, 5, 6]
    codes = np.arange(500) % 10
    result = best_assignment(codes, np.array(perm)[codes])
    assert result.agreement == 1.0 and result.assignment == perm
    labels = np.array(perm)[codes].copy()
    labels[:50] = (labels[:50] + 1) % 10                    # 10% of the samples drawn as another digit
    assert best_assignment(codes, labels).agreement == pytest.approx(0.9)
    rng = np.random.default_rng(0)
    assert best_assignment(codes, rng.integers(0, 10, 500)).agreement >= 0.1   # never below a tenth
    with pytest.raises(ValueError, match="as many codes"):
        best_assignment(codes, codes[:3])
    with pytest.raises(ValueError, match="must lie"):
        best_assignment(codes, codes + 5)


class _OracleGenerator(torch.nn.Module):
    """Draws the real test digit perm[c] for code c (noise and continuous codes ignored)."""

    def __init__(self, digits, perm):
        super().__init__()
        self.latent_dim, self.latent_codes = 4, {"n_categories": 10, "n_continuous": 2}
        self.register_buffer("bank", torch.stack([digits[d] for d in perm]))
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.bank[x[:, 4:14].argmax(1)] + 0 * self.dummy


def test_code_digit_agreement_with_the_classifier():
    test = ganlib.load_mnist("test", limit=200, verbose=False)
    digits = {int(y): x for x, y in zip(test.images, test.labels)}
    perm = [5, 2, 7, 0, 9, 1, 3, 8, 6, 4]
    result = code_digit_agreement(_OracleGenerator(digits, perm), n=200)
    assert result.assignment == perm and result.agreement >= 0.99
    with pytest.raises(ValueError, match="latent_codes"):
        code_digit_agreement(ganlib.models.MLPGenerator(), n=10)


def test_code_grid_rows_are_categories_and_columns_sweep():
    G = InfoGANGenerator(noise_dim=6, width=8, q_in_features=32)
    inputs, values = code_grid(G, n_values=5, sweep=1, seed=0)
    assert inputs.shape == (50, 18) and torch.allclose(values, torch.linspace(-2, 2, 5))
    assert torch.equal(inputs[:, 6:16].argmax(1), torch.arange(10).repeat_interleave(5))
    assert torch.allclose(inputs[:, 17], values.repeat(10)) and (inputs[:, 16] == 0).all()
    assert torch.equal(inputs[:, :6], inputs[:1, :6].expand(50, 6))
    with pytest.raises(ValueError, match="sweep"):
        code_grid(G, sweep=2)


def test_recipe_smoke_run_ships_a_generator_with_its_agreement(tmp_path):
    from ganlib.recipes import common, infogan

    flags = ["--limit", "128", "--max-epochs", "1", "--threads", "1", "--score-samples", "200",
             "--weights-dir", str(tmp_path / "w"), "--checkpoint-dir", str(tmp_path / "c"), "--fresh"]
    path = common.main(SMALL, infogan.__doc__, flags, extra_card=infogan.agreement_card)
    card = json.loads((tmp_path / "w" / "infogan.json").read_text())
    agreement = card["categorical code vs digit (200 samples, seed 0)"]
    assert 0.1 <= agreement["agreement (best one-to-one assignment with the classifier's digits)"] <= 1
    assert sorted(agreement["code -> digit"]) == list(range(10)) and agreement["target"] == 0.9
    assert "InfoGAN's mutual-information term" in card["g_extra_loss"] and card["steps"] == 128 // CONFIG.batch_size
    shipped = ganlib.pretrained.load_generator("infogan", weights_dir=tmp_path / "w")
    assert isinstance(shipped, InfoGANGenerator) and path.stat().st_size < 5 * 2**20
    assert isinstance(latent_sampler(shipped), InfoGANCodes)


def test_full_config_fits_the_size_limit():
    G, D = CONFIG.networks()
    n = sum(p.numel() for p in G.state_dict().values())
    assert n * 2 < 4.5 * 2**20                               # fp16 weights under the 5 MB cap
    assert G.q.net[0].in_features == D.feature_dim
    assert callable(agreement_card)


def test_checks_pass_right_answers_and_never_crash_on_wrong_ones(monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "0")

    def mi(logits, codes):
        log_q = torch.log_softmax(logits.double(), 1)
        return math.log(logits.shape[1]) + log_q[torch.arange(len(codes)), codes.long()].mean()

    check_mi_lower_bound(mi)
    assert "all 5 checks passed" in capsys.readouterr().out
    for wrong in (lambda *a: None, lambda *a: "text", lambda *a: {"x": 1}, lambda *a: 1 / 0,
                  lambda logits, c: torch.nn.functional.cross_entropy(logits, c.long()),
                  lambda logits, c: logits.int(), lambda logits, c: torch.softmax(logits, 1).log().mean()):
        check_mi_lower_bound(wrong)
        assert "FAIL" in capsys.readouterr().out
    for wrong in (lambda *a: None, lambda *a: "text", lambda *a: np.array([1, 2], dtype=object),
                  lambda p, q, a, b: (a * p + b * q) / (p + q), lambda *a: torch.tensor([1], dtype=torch.int8)):
        check_lsgan_optimal_discriminator(wrong)
        assert "FAIL" in capsys.readouterr().out
    check_lsgan_optimal_discriminator(42)
    assert "without parentheses" in capsys.readouterr().out
    check_lsgan_optimal_discriminator(lambda p, q, a, b: (a * p + b * q) / (p + q))
    assert "swapped" in capsys.readouterr().out


def test_checks_strict_mode_accepts_solutions_and_rejects_mistakes(monkeypatch):
    monkeypatch.setenv("GANLIB_STRICT_CHECKS", "1")
    check_lsgan_optimal_discriminator(lambda p, q, a, b: (b * np.asarray(p) + a * np.asarray(q))
                                      / (np.asarray(p) + np.asarray(q)))
    check_mi_lower_bound(lambda logits, c: math.log(logits.shape[1])
                         - torch.nn.functional.cross_entropy(logits, c.long()))
    with pytest.raises(AssertionError):
        check_mi_lower_bound(lambda logits, c: torch.nn.functional.cross_entropy(logits, c.long()))
    with pytest.raises(AssertionError):
        check_lsgan_optimal_discriminator(lambda p, q, a, b: p / (p + q))


def test_keras_and_torch_q_losses_agree():
    pytest.importorskip("tensorflow")
    from ganlib.keras.infogan import categorical_info_loss, gaussian_info_loss, info_loss

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (128, 10)).astype("float32")
    mean = rng.normal(0, 1, (128, 2)).astype("float32")
    cat = rng.integers(0, 10, 128)
    cont = rng.uniform(-1, 1, (128, 2)).astype("float32")
    t = [torch.from_numpy(v) for v in (logits, mean, cat, cont)]
    assert float(categorical_info_loss(logits, cat)) == pytest.approx(
        losses.categorical_info_loss(t[0], t[2]).item(), abs=1e-5)
    assert float(gaussian_info_loss(mean, cont)) == pytest.approx(
        losses.gaussian_info_loss(t[1], t[3]).item(), abs=1e-5)
    for w in ((1.0, 0.1), (0.3, 2.0)):
        assert float(info_loss(logits, mean, cat, cont, *w)) == pytest.approx(
            losses.infogan_info_loss(*t, *w).item(), abs=1e-5)


def test_keras_infogan_trains_q_in_the_generator_step():
    pytest.importorskip("tensorflow")
    import ganlib.keras as gk
    from ganlib.keras.infogan import InfoGAN, infogan_networks

    gk.keras.utils.set_random_seed(0)
    generator, body, d_head, q_head = infogan_networks(width=8, feature_dim=32)
    gan = InfoGAN(generator, body, d_head, q_head, seed=0)
    gan.compile(g_optimizer=gk.keras.optimizers.Adam(1e-3, beta_1=0.5),
                d_optimizer=gk.keras.optimizers.Adam(2e-4, beta_1=0.5))
    q0 = [w.numpy().copy() for w in q_head.trainable_weights]
    images = np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    history = gan.fit(images, batch_size=32, epochs=2, verbose=0)
    assert all(math.isfinite(v) for v in history.history["info_loss"])
    assert any(not np.array_equal(w.numpy(), w0) for w, w0 in zip(q_head.trainable_weights, q0))
    x, c, u = gan.sample_codes(5)
    assert x.shape == (5, 74) and np.allclose(x.numpy()[:, 62:72].argmax(1), c.numpy())
    with pytest.raises(ValueError, match="conditional=False"):
        InfoGAN(*infogan_networks(width=8, feature_dim=32), conditional=True)


def test_keras_generator_is_measured_by_the_torch_metrics():
    pytest.importorskip("tensorflow")
    import ganlib.keras as gk
    from ganlib.keras.infogan import InfoGAN, infogan_networks
    from ganlib.metrics.codes import code_steering

    gk.keras.utils.set_random_seed(0)
    gan = InfoGAN(*infogan_networks(width=8, feature_dim=32), seed=0)
    view = gan.torch_generator()
    x = InfoGANCodes(view.latent_dim, **view.latent_codes).fixed(6, seed=0).g_inputs[0]
    images = view(x)
    assert images.shape == (6, 1, 28, 28) and images.abs().max() <= 1
    expected = gk.generate(gan.generator, x.numpy())                       # NHWC, the same numbers
    assert np.allclose(images.permute(0, 2, 3, 1).numpy(), expected, atol=1e-6)
    real = torch.rand(50, 1, 28, 28) * 2 - 1
    steering = code_steering(view, n_sweeps=4, n_values=3, real_images=real)
    assert set(steering.moves) == {0, 1} and all(m >= 0 for j in steering.moves for m in steering.moves[j].values())
    with pytest.raises(ValueError, match=r"\(N, 74\)"):
        view(torch.zeros(2, 70))


def test_q_can_step_with_the_discriminator_as_in_chen_et_al():
    """q_steps_with="discriminator": Q leaves G's Adam for D's, the term joins D's loss, and a D step
    trains Q and D's body on it; G's step still gets the term and leaves Q alone."""
    config = replace(SMALL, q_steps_with="discriminator")
    ganlib.seed_everything(0)
    G, D = config.networks()
    kwargs = config.train_kwargs(G, D)
    opt_g, opt_d = kwargs["optimizers"]
    in_g = {id(p) for group in opt_g.param_groups for p in group["params"]}
    in_d = {id(p) for group in opt_d.param_groups for p in group["params"]}
    q_ids = {id(p) for p in G.q.parameters()}
    assert q_ids <= in_d and not q_ids & in_g and not in_g & in_d
    assert in_g == {id(p) for p in G.parameters()} - q_ids
    assert kwargs["d_extra_loss"] is kwargs["g_extra_loss"]
    assert "steps with D's optimizer" in config.describe()["q_head"] and "q_head" not in SMALL.describe()
    q_before = [p.detach().clone() for p in G.q.parameters()]
    data = ganlib.TensorBatches(torch.rand(64, 1, 28, 28) * 2 - 1, batch_size=32)
    ganlib.train_gan(G, D, data, epochs=1, progress=False, **kwargs)
    assert all(not torch.equal(b, p.detach()) for b, p in zip(q_before, G.q.parameters()))
    with pytest.raises(ValueError, match="q_steps_with must be one of"):
        replace(SMALL, q_steps_with="q")


def test_a_parameter_in_both_optimizers_is_refused():
    G, D = SMALL.networks()
    both = torch.optim.Adam([*D.parameters(), *G.q.parameters()])
    with pytest.raises(ValueError, match="in both opt_g and opt_d"):
        ganlib.train_gan(G, D, ganlib.TensorBatches(torch.rand(32, 1, 28, 28) * 2 - 1, batch_size=32), epochs=1,
                         progress=False, optimizers=(torch.optim.Adam(G.parameters()), both))


def test_the_recipe_trains_the_shipped_seed_unless_told(monkeypatch):
    from ganlib.recipes import infogan

    seen = []
    monkeypatch.setattr(infogan, "main", lambda config, doc, argv, extra_card: seen.append(argv))
    infogan.run(["--max-epochs", "1"])
    infogan.run(["--seed", "5"])
    assert seen == [["--max-epochs", "1", "--seed", str(infogan.SEED)], ["--seed", "5"]]
