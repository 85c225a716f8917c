"""The console script imports only the command it runs, and says how to get the emulator."""

from __future__ import annotations

import json
import subprocess
import sys

from outreach_pipeline.cli import COMMANDS

# Runs the console script's parser for argv[1:] in a fresh interpreter, then prints which
# outreach modules got imported.
LOADED_MODULES = """\
import json, sys
from outreach_pipeline.cli import build_parser, command_in
build_parser(command_in(sys.argv[1:])).parse_args(sys.argv[1:])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("outreach"))))
"""

# Runs the console script with the emulator package made unimportable, as in an installation
# of the pipeline's wheel alone.
WITHOUT_EMULATOR = """\
import sys
sys.modules["outreach_emulator"] = None
from outreach_pipeline.cli import main
sys.exit(main(sys.argv[1:]))
"""


def loaded_modules(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stdout))


def test_sync_imports_neither_the_emulator_nor_other_commands() -> None:
    loaded = loaded_modules("sync", "--streams", "prospects")
    assert "outreach_pipeline.commands.sync" in loaded
    others = {f"outreach_pipeline.commands.{name}" for name in COMMANDS if name != "sync"}
    assert not loaded & others
    assert not {m for m in loaded if m.startswith("outreach_emulator")}


def test_every_command_shows_its_own_arguments() -> None:
    for name in COMMANDS:
        done = subprocess.run(
            [sys.executable, "-m", "outreach_pipeline.cli", name, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert f"usage: outreach-pipeline {name}" in done.stdout


def test_emulator_commands_say_in_one_line_how_to_install_the_emulator() -> None:
    for name in ("demo", "emulator"):
        done = subprocess.run(
            [sys.executable, "-c", WITHOUT_EMULATOR, name],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith(f"outreach-pipeline {name}: needs the Outreach emulator")
        assert "uv sync" in done.stderr


def test_other_commands_run_without_the_emulator() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_EMULATOR, "sql", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
