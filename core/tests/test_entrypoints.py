"""Entry points read from the files of installed distributions."""

from __future__ import annotations

import sys

from paradime.entrypoints import entry_points


def make_dist(base, folder, name, version, entry_points_txt, meta="METADATA"):
    path = base / folder
    path.mkdir(parents=True)
    (path / meta).write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nBody: x\n"
    )
    (path / "entry_points.txt").write_text(entry_points_txt)


def test_reads_the_group_with_distribution_name_and_version(tmp_path, monkeypatch):
    make_dist(
        tmp_path,
        "acme_jobs-1.2.dist-info",
        "acme-jobs",
        "1.2",
        "[console_scripts]\nacme = acme:main\n\n[paradime.providers]\n"
        "# a comment\nacme = acme_jobs.plugin:provider\n",
    )
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    (ep,) = entry_points("paradime.providers")
    assert (ep.name, ep.value, ep.distribution, ep.version) == (
        "acme",
        "acme_jobs.plugin:provider",
        "acme-jobs",
        "1.2",
    )


def test_first_distribution_on_the_path_wins_and_egg_info_counts(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    make_dist(
        first,
        "Acme.Jobs.egg-info",
        "Acme.Jobs",
        "2.0",
        "[paradime.providers]\nacme = acme_new\n",
        meta="PKG-INFO",
    )
    make_dist(
        second,
        "acme_jobs-1.0.dist-info",
        "acme-jobs",
        "1.0",
        "[paradime.providers]\nacme = acme_old\n",
    )
    monkeypatch.setattr(sys, "path", [str(first), str(second), str(tmp_path / "missing")])
    (ep,) = entry_points("paradime.providers")
    assert (ep.value, ep.version) == ("acme_new", "2.0")


def test_load_imports_the_module_and_attribute(tmp_path, monkeypatch):
    (tmp_path / "acme_mod.py").write_text("class Outer:\n    inner = 42\n")
    make_dist(
        tmp_path,
        "acme-1.0.dist-info",
        "acme",
        "1.0",
        "[paradime.providers]\nacme = acme_mod:Outer.inner\n",
    )
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    (ep,) = entry_points("paradime.providers")
    assert ep.load() == 42


def test_a_distribution_whose_entry_points_are_not_utf8_is_reported_not_read(tmp_path, monkeypatch):
    from paradime.entrypoints import Unreadable

    make_dist(tmp_path, "good-1.0.dist-info", "good", "1.0", "[paradime.providers]\ngood = g\n")
    make_dist(tmp_path, "bad-1.0.dist-info", "bad", "1.0", "")
    (tmp_path / "bad-1.0.dist-info" / "entry_points.txt").write_bytes(
        b"[paradime.providers]\nb\xff = bad\n"
    )
    make_dist(tmp_path, "other-1.0.dist-info", "other", "1.0", "")
    (tmp_path / "other-1.0.dist-info" / "entry_points.txt").write_bytes(b"[x]\n\xff = y\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path)])
    unreadable: list[Unreadable] = []
    assert [ep.name for ep in entry_points("paradime.providers", unreadable)] == ["good"]
    # Only a distribution declaring the group is reported; another one's file is not ours.
    assert [(u.distribution, u.reason) for u in unreadable] == [
        ("bad", "its entry_points.txt is not UTF-8 text (byte 23)")
    ]
