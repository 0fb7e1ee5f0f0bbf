"""Write the term-planning page, ``book/term_plan.md``, from the notebooks.

    python -m ganlib.tools.term_plan            # rewrite book/term_plan.md
    python -m ganlib.tools.term_plan --check    # exit 1 if the committed page is stale

A suggested 10-week syllabus (which chapters and exercises, in what order), the
points of every chapter as the nbgrader edition gives them (one per star; auto-
checked or graded by hand), and the exercises that need a GPU run. Everything but
the weekly outline (``WEEKS`` below) is read from the notebooks' exercise markup, so
the page follows the book: edit the notebooks, then run the command (a test fails
while the page is stale).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

from .colab import chapter_number
from .nbgrader_edition import points_for
from .pages import page_command
from .student import Exercise, parse_exercises

ROOT = Path(__file__).resolve().parents[3]
PAGE = Path("book") / "term_plan.md"

# The outline: (week, theme, notebook stems). Exercise lists and totals are computed.
WEEKS = [
    (1, "Setting up; what a generative model is", ["00_how_to_use_this_book", "01_generative_models_and_the_gan_idea"]),
    (2, "The min-max game and its optimum", ["02_minimax_objective"]),
    (3, "Equilibria and training dynamics", ["03_nash_equilibrium_and_training_dynamics"]),
    (4, "The first GAN, trained (PyTorch and Keras)", ["04_mlp_gan", "04_mlp_gan_keras"]),
    (5, "Convolutional GANs", ["05_dcgan", "05_dcgan_keras"]),
    (6, "Conditional GANs", ["06_conditional_gan", "06_conditional_gan_keras"]),
    (7, "Wasserstein GANs", ["07_wgan", "07_wgan_keras"]),
    (8, "Other losses and InfoGAN", ["08_other_losses_and_infogan", "08_other_losses_and_infogan_keras"]),
    (9, "Evaluating GANs", ["09_evaluating_gans"]),
    (10, "Where GANs went next; applications; training on many GPUs; projects",
     ["10_beyond_the_basics", "11_applications", "12_distributed_training", "12_distributed_training_keras"]),
]
# An exercise "needs a GPU run" when it takes half an hour or more and its text asks for a run on a
# GPU or in the full profile, or for training an image model (the 2-D toy games run on any CPU).
GPU = re.compile(r"\bGPU\b|full profile|PROFILE=full|full run", re.I)
TRAINS_IMAGES = re.compile(r"\b(train|epochs?)\b", re.I), re.compile(r"MNIST|epoch|generator|InfoGAN|pix2pix|DCGAN")


def needs_gpu(exercise: Exercise, text: str) -> bool:
    """True when the exercise asks for a long training run that wants a GPU."""
    trains = all(pattern.search(text) for pattern in TRAINS_IMAGES)
    return (bool(GPU.search(text)) or trains) and (exercise.minutes or 0) >= 30


def _exercise_text(nb, exercise: Exercise) -> str:
    return nb.cells[exercise.index].source


def _load(notebooks_dir: Path) -> dict:
    chapters = {}
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip() if nb.cells else path.stem
        exercises = parse_exercises(nb, path.stem)
        chapters[path.stem] = (title, [(ex, needs_gpu(ex, _exercise_text(nb, ex))) for ex in exercises])
    return chapters


def _label_problems(chapters: dict) -> list[str]:
    """Exercise labels whose chapter prefix is not the notebook's chapter (they become grade ids)."""
    problems = []
    for stem, (_, exercises) in chapters.items():
        want = f"ch{chapter_number(stem).rstrip('K').lower()}"
        for ex, _ in exercises:
            prefix = re.match(r"ch\d+", ex.label)
            if prefix is None or prefix.group(0) != want:
                problems.append(f"{ex.label} ({stem})")
    return problems


def render(notebooks_dir: str | Path = ROOT / "notebooks") -> str:
    chapters = _load(Path(notebooks_dir))
    out = ["# Planning a term", "",
           "*Generated from the notebooks by `python -m ganlib.tools.term_plan`; do not edit by hand.*", "",
           "A suggested 10-week course built from the book, the points each chapter is worth in "
           "the nbgrader edition (one point per star of difficulty; see {doc}`instructors`), and the "
           "exercises that need a GPU run. Every chapter's quick profile runs in a minute or two at most "
           "on a laptop CPU; the exercises flagged *GPU* ask for a full-profile run, made for a GPU (the "
           "CPU times are on the instructors page; no GPU time has been measured yet).", "",
           "## A 10-week syllabus", "",
           "Each week: read and run the chapter(s), then hand in the exercises listed (all of them, or "
           "the auto-checked ones and two written ones). Keras companions are optional reading for a "
           "PyTorch course, and the other way round.", "",
           "| Week | Theme | Chapters | Exercises | Points (auto + manual) | GPU runs |",
           "|---:|:---|:---|:---|---:|:---|"]
    grand = [0, 0]
    for week, theme, stems in WEEKS:
        stems = [s for s in stems if s in chapters]
        exs = [(ex, gpu) for s in stems for ex, gpu in chapters[s][1]]
        auto = sum(points_for(ex) for ex, _ in exs if ex.auto_checked)
        manual = sum(points_for(ex) for ex, _ in exs if not ex.auto_checked)
        grand[0], grand[1] = grand[0] + auto, grand[1] + manual
        names = ", ".join(chapter_number(s) for s in stems)
        labels = ", ".join(f"{{ref}}`{ex.label} <{ex.label}>`" for ex, _ in exs) or "–"
        gpus = ", ".join(f"{{ref}}`{ex.label} <{ex.label}>`" for ex, gpu in exs if gpu) or "–"
        out.append(f"| {week} | {theme} | {names} | {labels} | {auto + manual} ({auto} + {manual}) | {gpus} |")
    out += ["", f"In all: {grand[0] + grand[1]} points, {grand[0]} autograded and {grand[1]} graded by hand.", "",
            "## Points per chapter", "",
            "| Chapter | Exercises | Auto-checked | Points | Autograded | By hand | Minutes |",
            "|:---|---:|---:|---:|---:|---:|---:|"]
    for stem, (title, exs) in chapters.items():
        if not exs:
            continue
        auto = sum(points_for(ex) for ex, _ in exs if ex.auto_checked)
        manual = sum(points_for(ex) for ex, _ in exs if not ex.auto_checked)
        minutes = sum(ex.minutes or 0 for ex, _ in exs)
        title = title.replace("`", "")  # no backticks inside a {doc} role
        out.append(f"| {{doc}}`{title} <../notebooks/{stem}>` | {len(exs)} | "
                   f"{sum(ex.auto_checked for ex, _ in exs)} | {auto + manual} | {auto} | {manual} | {minutes} |")
    gpu_rows = [(stem, ex) for stem, (_, exs) in chapters.items() for ex, gpu in exs if gpu]
    out += ["", "## Exercises that need a GPU run", "",
            "A full-profile training run: minutes on Colab's GPU, an hour or more on a laptop CPU. "
            "Give them a week, or run them in class.", "",
            "| Exercise | Chapter | Difficulty | Time |", "|:---|:---|:---:|---:|"]
    out += [f"| {{ref}}`{ex.label} <{ex.label}>` | {chapter_number(stem)} | {ex.difficulty} | {ex.minutes} min |"
            for stem, ex in gpu_rows]
    problems = _label_problems(chapters)
    if problems:
        out += ["", "## Labels to fix", "",
                "These exercise labels do not start with their chapter's number; nbgrader uses them as "
                "grade ids, so rename them in the notebooks (and their references) before a term starts: "
                + ", ".join(f"`{p}`" for p in problems) + "."]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    return page_command(__doc__, PAGE, render, "ganlib.tools.term_plan", argv)


if __name__ == "__main__":
    sys.exit(main())
