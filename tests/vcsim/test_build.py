"""The vcsim binary: built once per machine outside the repository, keyed by its sources, and a
one-line error saying what to install when Go or govmomi is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from simulator.vcsim import build
from simulator.vcsim.build import VcsimBuildError, cache_root, source_key, vcsim_binary

REPO = Path(__file__).resolve().parents[2]
INSTALL = "apt-get install -y golang-go golang-github-vmware-govmomi-dev"


def test_binary_is_built_into_the_cache_keyed_by_the_sources():
    binary = vcsim_binary()
    assert binary == cache_root() / source_key() / "vcsim"
    assert binary.is_file() and os.access(binary, os.X_OK)
    assert not binary.is_relative_to(REPO)


def test_a_built_binary_is_reused():
    first = vcsim_binary()
    mtime = first.stat().st_mtime_ns
    assert vcsim_binary() == first
    assert first.stat().st_mtime_ns == mtime


def test_the_cache_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_root() == tmp_path / "accord" / "vcsim"


def test_the_key_changes_with_any_go_source(monkeypatch, tmp_path):
    for source in build.go_sources():
        shutil.copy(source, tmp_path / source.name)
    monkeypatch.setattr(build, "SOURCE_DIR", tmp_path)
    same = source_key()
    (tmp_path / "host.go").write_text((tmp_path / "host.go").read_text() + "\n// changed\n")
    assert same != source_key()


def test_without_go_one_line_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(VcsimBuildError) as caught:
        vcsim_binary()
    message = str(caught.value)
    assert "\n" not in message
    assert "go is missing" in message and INSTALL in message


def test_without_the_govmomi_source_one_line_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(build, "GOVMOMI_SIMULATOR", tmp_path / "no-govmomi")
    with pytest.raises(VcsimBuildError) as caught:
        vcsim_binary()
    message = str(caught.value)
    assert "\n" not in message
    assert "govmomi source" in message and INSTALL in message


def test_the_module_prints_the_binary(capsys):
    assert build.main() == 0
    assert capsys.readouterr().out.strip() == str(vcsim_binary())
