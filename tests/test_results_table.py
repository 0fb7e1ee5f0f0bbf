"""The results tables are generated: rerunning the scoreboard on the shipped weights gives
exactly the committed book/results_table.md and the README's copies."""
from pathlib import Path

from ganlib.recipes import scoreboard

ROOT = Path(__file__).resolve().parents[1]


def block(text: str, start: str, end: str) -> str:
    assert start in text and end in text, f"README lacks {start} ... {end}"
    return text[text.index(start) + len(start):text.index(end)].strip("\n") + "\n"


def test_results_table_and_readme_match_the_shipped_weights():
    table = scoreboard.results_table(progress=False)
    committed = (ROOT / "book" / "results_table.md").read_text()
    assert committed == table, "book/results_table.md is stale: run python -m ganlib.recipes.scoreboard"
    readme = (ROOT / "README.md").read_text()
    assert block(readme, scoreboard.README_START, scoreboard.README_END) == table, \
        "the README's results table is stale: run python -m ganlib.recipes.scoreboard"


def test_readme_training_table_matches_the_model_cards():
    readme = (ROOT / "README.md").read_text()
    assert block(readme, scoreboard.TRAINING_START, scoreboard.TRAINING_END) == scoreboard.training_table(), \
        "the README's training table is stale: run python -m ganlib.recipes.scoreboard"
