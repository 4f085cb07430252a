"""The CLI's files, in process: bad inputs end in one ``error:`` line and change nothing; no
command writes over its input; every output is written exactly at the path given; outputs are
checked before the work starts."""

from __future__ import annotations

import hashlib
import os
import re
import time
import warnings
import zipfile

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip._io import atomic_write, check_output_path, input_errors, load_npz
from neurochip.cli import main
from neurochip.errors import ConfigError
from neurochip.lif import LIFParams
from neurochip.network import FixedInDegree, Network, Population, Projection
from neurochip.network.files import save_network
from neurochip.network.nir_io import write_nir
from neurochip.report import RunRecord

P = LIFParams(c_m_farad=250e-12, g_leak_siemens=12.5e-9, v_th_volt=0.02, v_reset_volt=0.01, t_ref_s=2e-3)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def _net() -> Network:
    return Network(
        populations=(Population(name="E", size=40, params=P), Population(name="I", size=10, params=P)),
        projections=(
            Projection(pre="E", post="E", rule=FixedInDegree(k=4), weight_volt=1e-4, delay_s=1.5e-3),
            Projection(pre="I", post="E", rule=FixedInDegree(k=2), weight_volt=-5e-4, delay_s=1e-3),
        ),
        seed=2,
    )


def call(capsys, *argv):
    """Exit status, stdout and stderr of one in-process CLI call (usage errors included)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder):
    """Every file under ``folder`` (hidden ones too) with the hash of its bytes."""
    return {
        os.path.relpath(os.path.join(root, name), folder): hashlib.sha256(
            open(os.path.join(root, name), "rb").read()).hexdigest()
        for root, _, names in os.walk(folder) for name in names
    }  # fmt: skip


def assert_one_error_line(code, err, *fragments, status=1):
    assert code == status, err
    assert err.startswith("error:"), err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for f in fragments:
        assert f in err, (f, err)


@pytest.fixture
def files(tmp_path):
    """A folder with a good network, a good run, and the bad inputs of the corpus."""
    save_network(_net(), tmp_path / "net.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "empty.nir").write_bytes(b"")
    (tmp_path / "empty.toml").write_bytes(b"")
    (tmp_path / "picture.png").write_bytes(PNG)
    (tmp_path / "binary.toml").write_bytes(PNG)
    (tmp_path / "binary.cir").write_bytes(PNG)
    (tmp_path / "binary.csv").write_bytes(PNG)
    (tmp_path / "folder").mkdir()
    with open(tmp_path / "net.npz", "rb") as fh:
        (tmp_path / "truncated.npz").write_bytes(fh.read()[:300])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NIR has no t_ref
        write_nir(_net(), tmp_path / "net.nir")
    (tmp_path / "truncated.nir").write_bytes((tmp_path / "net.nir").read_bytes()[:2000])
    np.savez(tmp_path / "objects.npz", header=np.array([{"format": "neurochip-run"}], dtype=object))
    return tmp_path


@pytest.fixture
def run_file(tmp_path, capsys):
    save_network(_net(), tmp_path / "net.npz")
    code, _, err = call(capsys, "run", tmp_path / "net.npz", "--duration", "20 ms", "--poisson", "E:20kHz:1mV",
                        "--no-route", "-o", tmp_path / "r.run")  # fmt: skip
    assert code == 0, err
    return tmp_path / "r.run"


# every subcommand that reads a file, with the file's place marked by {}
READERS = {
    "network info": ["network", "info", "{}"],
    "map": ["map", "{}"],
    "run": ["run", "{}", "--duration", "10 ms", "-o", "{out}"],
    "report energy": ["report", "energy", "{}"],
    "report saturation": ["report", "saturation", "{}"],
    "chip show": ["chip", "show", "{}"],
    "map --chip": ["map", "{net}", "--chip", "{}"],
    "run --chip": ["run", "{net}", "--chip", "{}", "-o", "{out}"],
    "lif --config": ["lif", "--config", "{}"],
    "lif prc --config": ["lif", "prc", "--config", "{}"],
    "circuit simulate": ["circuit", "simulate", "{}", "--current", "1nA", "--duration", "1ms"],
    "circuit fit": ["circuit", "fit", "{}"],
    "circuit montecarlo": ["circuit", "montecarlo", "{}", "-n", "2", "-o", "{out}"],
    "sweep": ["sweep", "{}", "-o", "{out}.csv"],
    "sweep plot": ["sweep", "plot", "{}", "-o", "{out}.png"],
}
# what each reader is given: a missing file, a folder, an empty file, a binary file, a file of the wrong kind
NETWORK_READERS = ("network info", "map", "run")
BAD = {
    "missing": ("missing.npz", "file not found"),
    "folder": ("folder", "is a folder"),
}
BAD_BY_KIND = {
    "network": [("empty.npz", "empty"), ("empty.nir", "empty"), ("picture.png", "neither a .npz archive nor HDF5"),
                ("truncated.npz", "truncated or damaged"), ("truncated.nir", "cannot read as an NIR graph"),
                ("r.run", "not a neurochip-network file")],
    "run": [("empty.npz", "the file is empty"), ("picture.png", "not a zip file"), ("net.npz", "not a neurochip run file"),
            ("truncated.npz", "truncated or damaged"), ("objects.npz", "pickle")],
    "toml": [("binary.toml", "not UTF-8 text"), ("picture.png", "not UTF-8 text")],
    "netlist": [("binary.cir", "not UTF-8 text"), ("picture.png", "not UTF-8 text")],
    "table": [("binary.csv", "not UTF-8 text")],
}  # fmt: skip
KIND = {"network info": "network", "map": "network", "run": "network", "report energy": "run",
        "report saturation": "run", "chip show": "toml", "map --chip": "toml", "run --chip": "toml",
        "lif --config": "toml", "lif prc --config": "toml", "circuit simulate": "netlist", "circuit fit": "netlist",
        "circuit montecarlo": "netlist", "sweep": "toml", "sweep plot": "table"}  # fmt: skip
CASES = [(cmd, name, frag) for cmd in READERS for name, frag in list(BAD.values()) + BAD_BY_KIND[KIND[cmd]]]


@pytest.mark.parametrize(("command", "bad", "fragment"), CASES, ids=[f"{c}-{b}" for c, b, _ in CASES])
def test_bad_input_is_one_error_line_and_changes_nothing(files, run_file, capsys, command, bad, fragment):
    argv = [a.replace("{}", str(files / bad)).replace("{net}", str(files / "net.npz"))
            .replace("{out}", str(files / "out")) for a in READERS[command]]  # fmt: skip
    before = snapshot(files)
    code, _, err = call(capsys, *argv)
    assert_one_error_line(code, err, bad, fragment)
    assert snapshot(files) == before


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["run", "{net}", "--duration", "nan", "-o", "{out}"], "--duration = 'nan'"),
        (["run", "{net}", "--duration", "-1 s", "-o", "{out}"], "must be a finite positive quantity"),
        (["run", "{net}", "--duration", "0", "-o", "{out}"], "must be a finite positive quantity"),
        (["demo", "--duration", "0", "-o", "{out}"], "must be a finite positive quantity"),
        (["demo", "--duration", "-0.05", "-o", "{out}"], "must be a finite positive quantity"),
        (["demo", "--duration", "nan", "-o", "{out}"], "--duration = 'nan'"),
        (["circuit", "simulate", "lif_behavioral", "--current", "1nA", "--duration=-1ms"], "--duration"),
        (["run", "{net}", "--chip", "nosuch", "-o", "{out}"], "no chip preset or file named 'nosuch'"),
        (["map", "{net}", "--chip", "nosuch"], "no chip preset or file named 'nosuch'"),
        (["chip", "show", "nosuch"], "no chip preset or file named 'nosuch'"),
        (["circuit", "simulate", "nosuch", "--current", "1nA", "--duration", "1ms"], "unknown circuit 'nosuch'"),
        (["circuit", "montecarlo", "lif_behavioral", "-n", "0", "-o", "{out}"], "argument -n: 0: must be an integer"),
        (["report", "energy", "{net}", "--plot", "{out}"], "--plot"),
        (["lif", "--plot", "{out}"], "must end with one of .png"),
        (["network", "info", "/dev/null"], "not a regular file"),
        (["sweep", "{toml}", "-o", "{out}.csv", "--cache-dir", "{net}"], "--cache-dir"),
    ],
)
def test_bad_values_fail_before_the_work_and_write_nothing(files, capsys, argv, fragment):
    argv = [a.replace("{net}", str(files / "net.npz")).replace("{out}", str(files / "out"))
            .replace("{toml}", str(files / "empty.toml")) for a in argv]  # fmt: skip
    before = snapshot(files)
    t0 = time.perf_counter()
    code, _, err = call(capsys, *argv)
    assert time.perf_counter() - t0 < 1.0
    assert_one_error_line(code, err, fragment, status=2 if "argument " in err else 1)
    assert snapshot(files) == before
    assert not (files / "out").exists()


def test_montecarlo_checks_its_output_before_any_sample(tmp_path, capsys, monkeypatch):
    import neurochip.circuit.montecarlo as mc

    ran = []
    monkeypatch.setattr(mc, "run_montecarlo", lambda *a, **k: ran.append(a))  # would run the samples
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    code, _, err = call(capsys, "circuit", "montecarlo", "lif_behavioral", "-n", "200", "-o", "missing_dir/mc.npz")
    assert time.perf_counter() - t0 < 1.0
    assert_one_error_line(code, err, "-o missing_dir/mc.npz", "folder 'missing_dir' does not exist")
    assert ran == [] and os.listdir(tmp_path) == []


def test_demo_refuses_a_file_as_its_folder(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    code, _, err = call(capsys, "demo", "-o", target)
    assert_one_error_line(code, err, "notes.txt", "is not a folder")
    assert target.read_text() == "keep me" and os.listdir(tmp_path) == ["notes.txt"]


def test_no_command_writes_over_its_input(files, run_file, capsys):
    net = files / "net.npz"
    os.link(net, files / "hard.npz")
    (files / "soft.npz").symlink_to(net)
    (files / "lif.cir").write_text("* netlist\n")
    (files / "lif.toml").write_text("description = 'sidecar'\n")
    (files / "spec.csv").write_text("name = 'x'\n")
    cases = [
        (["run", net, "-o", net], "is the input file"),
        (["run", net, "-o", os.path.join(str(files), ".", "net.npz")], "is the input file"),
        (["run", files / "hard.npz", "-o", net], "is the input file"),  # a hard link to the output
        (["run", files / "soft.npz", "-o", net], "is the input file"),  # a symlink to the output
        (["run", net, "--chip", files / "lif.toml", "-o", files / "lif.toml"], "is the input file"),
        (["circuit", "fit", files / "lif.cir", "-o", files / "lif.toml"], "is the input file"),  # its sidecar
        (["circuit", "montecarlo", files / "lif.cir", "-o", files / "lif.cir"], "is the input file"),
        (["sweep", files / "spec.csv", "-o", files / "spec.csv"], "is the input file"),
        (["lif", "convert", "--config", files / "lif.toml", "--nir", files / "lif.toml"], "is the input file"),
        (["report", "energy", run_file, "--plot", run_file], "must end with one of .png"),
    ]
    for argv, fragment in cases:
        before = snapshot(files)
        code, _, err = call(capsys, *argv)
        assert_one_error_line(code, err, fragment)
        assert snapshot(files) == before, argv


@pytest.mark.parametrize("name", ["r.run", "r.txt", "r", "r.npz"])
def test_run_output_is_written_exactly_as_named(tmp_path, capsys, name):
    save_network(_net(), tmp_path / "net.npz")
    code, out, err = call(capsys, "run", tmp_path / "net.npz", "--duration", "10 ms", "--no-route",
                          "-o", tmp_path / name)  # fmt: skip
    assert code == 0, err
    assert f"run written to {tmp_path / name}" in out
    assert sorted(os.listdir(tmp_path)) == sorted(["net.npz", name])
    assert RunRecord.load(tmp_path / name).duration_s == pytest.approx(0.01)


@pytest.mark.spice
def test_circuit_outputs_are_written_exactly_as_named(tmp_path, capsys):
    from neurochip.circuit import spice_available
    from neurochip.circuit.montecarlo import MonteCarloResult

    require_or_skip(spice_available(), "ngspice")
    code, out, err = call(capsys, "circuit", "fit", "lif_behavioral", "--points", "3", "-o", tmp_path / "p.cfg")
    assert code == 0, err
    assert LIFParams.from_toml(tmp_path / "p.cfg").t_ref_s > 0
    code, out, err = call(capsys, "circuit", "montecarlo", "lif_transistor", "-n", "2", "--workers", "0", "--json",
                          "-o", tmp_path / "mc.samples")  # fmt: skip
    assert code == 0, err
    assert MonteCarloResult.load(tmp_path / "mc.samples").n_ok == 2
    assert sorted(os.listdir(tmp_path)) == ["mc.samples", "p.cfg"]


def test_report_plot_is_written_exactly_as_named_and_needs_an_image_suffix(run_file, capsys):
    folder = run_file.parent
    code, _, err = call(capsys, "report", "energy", run_file, "--plot", folder / "energy")
    assert_one_error_line(code, err, "--plot", "suffix chooses the format")
    assert not any(n.startswith("energy") for n in os.listdir(folder))
    code, _, err = call(capsys, "report", "energy", run_file, "--plot", folder / "e.svg")
    assert code == 0, err
    assert (folder / "e.svg").read_bytes().lstrip().startswith(b"<?xml")
    assert not any(n.startswith(".e.svg") for n in os.listdir(folder))  # no temporary file left


def test_verbose_adds_the_traceback(tmp_path, capsys):
    code, _, err = call(capsys, "--verbose", "network", "info", tmp_path / "missing.npz")
    assert code == 1
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error:")


def test_a_file_error_no_loader_caught_is_still_one_line(capsys, monkeypatch):
    import neurochip.chip

    def broken():
        raise OSError(5, "Input/output error", "presets/generic.toml")

    monkeypatch.setattr(neurochip.chip, "list_presets", broken)  # a disk failing under a reader
    code, _, err = call(capsys, "chip", "list")
    assert_one_error_line(code, err, "presets/generic.toml: Input/output error")
    code, _, err = call(capsys, "--verbose", "chip", "list")
    assert code == 1 and "Traceback" in err and "OSError" in err


# ---------------------------------------------------------------------------------------------
# neurochip._io


def test_atomic_write_leaves_nothing_on_failure_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.npz"

    def fail(fh):
        fh.write(b"half")
        raise RuntimeError("writer failed")

    with pytest.raises(RuntimeError, match="writer failed"):
        atomic_write(target, fail)
    assert os.listdir(tmp_path) == []
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        atomic_write(target, fail)
    assert os.listdir(tmp_path) == ["out.npz"] and target.read_bytes() == b"old"
    atomic_write(target, lambda fh: np.savez(fh, x=np.arange(4)))
    assert os.listdir(tmp_path) == ["out.npz"]
    np.testing.assert_array_equal(np.load(target)["x"], np.arange(4))


def test_load_npz_never_unpickles_and_names_the_file(files):
    with pytest.raises(ConfigError, match=r"objects\.npz: array 'header' holds Python objects \(pickle\)"):
        load_npz(files / "objects.npz", "a run file")
    with pytest.raises(ConfigError, match=r"picture\.png: cannot read as a \.npz archive: not a zip file; expected X"):
        load_npz(files / "picture.png", "X")
    with zipfile.ZipFile(files / "bad.npz", "w") as z:
        z.writestr("a.npy", b"\x93NUMPY garbage")
    with pytest.raises(ConfigError, match=r"bad\.npz: cannot read as a \.npz archive: truncated or damaged"):
        load_npz(files / "bad.npz", "X")
    assert sorted(load_npz(files / "net.npz", "X")) == sorted(np.load(files / "net.npz").files)


def test_check_output_path_rules(tmp_path):
    (tmp_path / "in.npz").write_bytes(b"x")
    with pytest.raises(ConfigError, match="is a folder"):
        check_output_path(tmp_path)
    with pytest.raises(ConfigError, match="must end with .csv"):
        check_output_path(tmp_path / "t.txt", suffix=".csv")
    with pytest.raises(ConfigError, match="is the input file"):
        check_output_path(os.path.join(tmp_path, ".", "in.npz"), inputs=[None, str(tmp_path / "in.npz")])
    with pytest.raises(ConfigError, match="exists and is not a regular file"):
        check_output_path("/dev/null")
    with pytest.raises(ConfigError, match="in.npz' is not a folder"):
        check_output_path(tmp_path / "in.npz" / "x.run")
    assert check_output_path(tmp_path / "new.run", inputs=[tmp_path / "in.npz"]) == tmp_path / "new.run"


def test_input_errors_name_the_file(tmp_path):
    for exc, fragment in ((PermissionError(13, "Permission denied"), r"cannot be read \(permission denied\)"),
                          (EOFError("No data left in file"), "empty or truncated; expected a run file"),
                          (IsADirectoryError(21, "Is a directory"), "is a folder; expected a run file")):
        with pytest.raises(ConfigError, match=f"r.npz: {fragment}"):
            with input_errors("r.npz", "a run file"):
                raise exc
    with pytest.raises(ConfigError, match="x.toml: not UTF-8 text"):
        with input_errors("x.toml", "TOML"):
            PNG.decode()


def test_library_readers_name_the_file_of_a_binary_input(tmp_path):
    content = b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary"
    from neurochip._spec import load_toml
    from neurochip.circuit.montecarlo import MonteCarloResult
    from neurochip.circuit.netlist import load_template
    from neurochip.sweep import read_table

    readers = {"x.toml": load_toml, "x.cir": load_template, "x.csv": read_table, "x.npz": MonteCarloResult.load}
    for name, read in readers.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ConfigError, match=re.escape(name)):
            read(path)
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(ConfigError, match="folder.toml: is a folder"):
        load_toml(tmp_path / "folder.toml")
