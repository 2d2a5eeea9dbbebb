"""
The README's two commands: `make run` (on the port asked for) and `make test`, which names a
missing tool, and how to install it, before it sets anything up.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def make(*args, path=None):
    """`make ARGS` in the checkout, as a newcomer's shell would run it (no outer make's flags)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PORT", "CHROMIUM", "PYTHON", "VENV"}
    }
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [shutil.which("make"), "--no-print-directory", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines_with(text, needle):
    return [line.strip() for line in text.splitlines() if needle in line]


@pytest.mark.parametrize("args, port", [((), "8000"), (("PORT=8001",), "8001")])
def test_make_run_serves_on_the_port_given_and_prints_its_admin_address(args, port):
    dry_run = make("-n", "run", *args)
    assert dry_run.returncode == 0, dry_run.stderr
    assert [line.split()[-1] for line in lines_with(dry_run.stdout, "runserver")] == [
        f"127.0.0.1:{port}"
    ]
    assert f"Admin: http://127.0.0.1:{port}/admin/" in dry_run.stdout
    other = "8000" if port == "8001" else "8001"
    assert f"127.0.0.1:{other}" not in dry_run.stdout


@pytest.mark.parametrize("port", ["abc", "0", "65536", "80 01"])
def test_make_run_refuses_a_port_that_is_not_one(port):
    result = make("check-port", f"PORT={port}")
    assert result.returncode != 0
    assert f"PORT must be a number from 1 to 65535, e.g. make run PORT=8001; it is '{port}'." in (
        result.stderr
    )


def test_make_test_checks_its_tools_before_it_sets_anything_up():
    dry_run = make("-n", "test").stdout
    assert "command -v $tool" in dry_run
    assert dry_run.index("command -v $tool") < dry_run.index("pytest")


@pytest.fixture
def path_without_node(tmp_path):
    """A PATH with every program of this one except node, npm and npx."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not Path(directory).is_dir():
            continue
        for program in Path(directory).iterdir():
            link = bin_dir / program.name
            if program.name in {"node", "npm", "npx"} or link.exists() or link.is_symlink():
                continue
            link.symlink_to(program.resolve())
    assert shutil.which("npm", path=str(bin_dir)) is None
    return str(bin_dir)


def test_make_test_names_missing_node_and_npm_and_how_to_install_them(path_without_node):
    result = make("check-test-tools", f"PYTHON={sys.executable}", path=path_without_node)
    assert result.returncode != 0
    assert "make test needs Node.js and npm" in result.stderr
    assert "apt-get install nodejs npm" in result.stderr


def test_make_test_names_a_missing_chromium_and_how_to_install_it(tmp_path):
    missing = tmp_path / "no-chromium-here"
    result = make("check-test-tools", f"PYTHON={sys.executable}", f"CHROMIUM={missing}")
    assert result.returncode != 0
    assert f"make test needs Chromium for the browser tests, and CHROMIUM={missing} is not" in (
        result.stderr
    )
    assert "apt-get install chromium" in result.stderr
    assert not missing.exists()


def test_make_names_a_missing_python_before_making_the_virtual_environment(tmp_path):
    venv = tmp_path / "venv"
    result = make("install", f"PYTHON={tmp_path / 'python3'}", f"VENV={venv}")
    assert result.returncode != 0
    assert "Python 3.11 or newer is needed;" in result.stderr
    assert "is not installed. Install it (Debian: apt-get install python3 python3-venv)" in (
        result.stderr
    )
    assert not venv.exists()


def fake_programs(tmp_path, **scripts):
    """A PATH whose first folder holds the given shell scripts, before this PATH's programs."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    for name, body in scripts.items():
        program = bin_dir / name.replace("_", "-")
        program.write_text("#!/bin/sh\n" + body + "\n")
        program.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def check_chromium(debian_path, path):
    """make test's tool check, with Debian's Chromium expected at `debian_path`."""
    return make(
        "check-test-tools",
        f"PYTHON={sys.executable}",
        f"APT_CHROMIUM={debian_path}",
        f"CHROMIUM={debian_path}",
        path=path,
    )


def test_make_test_as_another_user_says_how_to_install_debians_chromium(tmp_path):
    # Where Debian's package would put it, nothing: as a user that is not root.
    debian_path = tmp_path / "usr-bin-chromium"
    path = fake_programs(tmp_path, id="echo 1000", apt_get="echo apt-get ran >&2; exit 100")
    result = check_chromium(debian_path, path)
    assert result.returncode != 0
    assert "make test needs Debian's chromium package (for the browser tests)" in result.stderr
    assert "run 'sudo apt-get install chromium', or run make test as root" in result.stderr
    assert "apt-get ran" not in result.stderr


def test_make_test_as_root_installs_debians_chromium_itself(tmp_path):
    debian_path = tmp_path / "usr-bin-chromium"
    log = tmp_path / "apt-get.log"
    path = fake_programs(
        tmp_path,
        id="echo 0",
        apt_get=f'echo "$*" >> {log}; [ "$1" = install ] && touch {debian_path} '
        f"&& chmod +x {debian_path}",
    )
    result = check_chromium(debian_path, path)
    assert result.returncode == 0, result.stderr
    assert "Installing Debian's chromium package for the browser tests" in result.stdout
    assert log.read_text().splitlines() == ["install -y -q chromium"]


def test_make_test_as_root_says_so_when_apt_get_cannot_install_chromium(tmp_path):
    debian_path = tmp_path / "usr-bin-chromium"
    path = fake_programs(tmp_path, id="echo 0", apt_get="echo 'E: Unable to locate' >&2; exit 100")
    result = check_chromium(debian_path, path)
    assert result.returncode != 0
    assert "apt-get could not install Debian's chromium package (see above)" in result.stderr


def test_make_names_missing_system_libraries_before_making_the_virtual_environment(tmp_path):
    # A pkg-config that knows no ICU: the development files are not installed.
    venv = tmp_path / "venv"
    result = make("install", f"VENV={venv}", path=fake_programs(tmp_path, pkg_config="exit 1"))
    assert result.returncode != 0
    assert "apt-get install libicu-dev pkg-config" in result.stderr
    assert not venv.exists()
