"""One error style for every command (cli/common.py): whatever goes wrong, ONE line on stderr
that starts with `error:` and names the problem, exit status 1, never a traceback."""

from __future__ import annotations

import pytest

from cli import COMMANDS
from cli.main import run

# the commands that open a project folder, with the arguments they need besides it
PROJECT_COMMANDS = {
    "import": ["--from", "."],
    "info": [],
    "train": ["--device", "cpu"],
    "use-run": ["some-run"],
    "lr-find": [],
    "check": [],
}


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("command", sorted(PROJECT_COMMANDS))
def test_a_folder_that_is_not_a_project_is_one_line_naming_it(command, tmp_path, capsys):
    assert command in COMMANDS
    folder = tmp_path / "holiday photos"
    folder.mkdir()
    assert run([command, str(folder), *PROJECT_COMMANDS[command]]) == 1
    assert str(folder) in _one_error_line(capsys)


def test_a_wrong_option_is_one_line_saying_what_to_change(tmp_path, capsys):
    from engine.project.demo import create_demo_project

    create_demo_project(tmp_path / "p", "classification", n=8, size=32).close()
    assert run(["train", str(tmp_path / "p"), "--epochs", "2", "--freeze-epochs", "3"]) == 1
    assert "--freeze-epochs (3) cannot exceed --epochs (2)" in _one_error_line(capsys)
    assert run(["check", str(tmp_path / "p"), "--label-next", "3"]) == 1  # no model yet
    assert "train" in _one_error_line(capsys).lower()


def test_a_missing_model_file_is_one_line(tmp_path, capsys):
    for argv in (
        ["predict", str(tmp_path / "nothing.pt"), str(tmp_path)],
        ["export", str(tmp_path / "nothing.pt"), "--out", str(tmp_path / "out")],
    ):
        assert run(argv) == 1
        assert "nothing.pt" in _one_error_line(capsys)


def test_an_unforeseen_failure_is_still_one_line_and_debug_shows_the_traceback(
    tmp_path, capsys, monkeypatch
):
    import cli.project

    def broken(args):
        raise RuntimeError("the disk cache is inconsistent")

    monkeypatch.setattr(cli.project, "cmd_info", broken)
    monkeypatch.delenv("TOPDOWN_DEBUG", raising=False)
    assert run(["info", str(tmp_path)]) == 1
    line = _one_error_line(capsys)
    assert "RuntimeError: the disk cache is inconsistent" in line and "TOPDOWN_DEBUG" in line
    monkeypatch.setenv("TOPDOWN_DEBUG", "1")
    with pytest.raises(RuntimeError):
        run(["info", str(tmp_path)])


def test_a_second_process_of_a_torchrun_job_says_which_it_is(monkeypatch, capsys):
    from cli.common import print_error

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    print_error("peer lost")
    assert capsys.readouterr().err == "error (process 1): peer lost\n"
