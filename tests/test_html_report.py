"""The HTML run report: self-contained, every section, the numbers of the reports, and (with
Debian's chromium) a headless render without console errors, saved as docs/img/report-html.png
when NEUROCHIP_UPDATE_DOCS_IMG is set."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import require_or_skip

from neurochip.examples import ei_network
from neurochip.html_report import SECTIONS, html_report, write_html_report
from neurochip.lif import LIFParams
from neurochip.onchip import run_on_chip
from neurochip.report import RunRecord, energy_report
from neurochip.units import format_si

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    net, inputs = ei_network(LIFParams(), n_exc=160, n_inh=40, k_exc=16, k_inh=4, seed=3)
    rec = run_on_chip(net, "generic", duration_s=0.05, inputs=inputs, seed=7)
    path = tmp_path_factory.mktemp("run") / "run.npz"
    rec.save(path)
    return RunRecord.load(path)  # what `neurochip report html RUN.npz` reads


def test_page_is_self_contained_with_every_section(record, tmp_path):
    out = tmp_path / "r.html"
    write_html_report(record, out)
    text = out.read_text()
    for sec in SECTIONS:
        assert f'<section id="{sec}">' in text
    # nothing fetched from anywhere: no script, no external src/href
    assert "<script" not in text
    assert not re.search(r'(src|href)="(?!data:)', text)
    assert text.count("data:image/png;base64,") == 3


def test_page_shows_the_reports_numbers_and_provenance(record):
    text = html.unescape(html_report(record))
    _, energy = energy_report(record)
    assert format_si(energy["total_joule"], "J") in text
    for op, value in energy["by_operation_joule"].items():
        assert f"{energy['counts'][op]:,.0f}" in text and format_si(value, "J") in text
    assert "seed" in text and ">7<" in html_report(record)
    for pop in record.population_names:
        assert f"population {pop}" in text
    assert "PoissonInput" in text


def test_every_core_and_link_has_a_hover_title(record):
    text = html_report(record)
    n_cores = record.chip.n_cores
    w, h = record.chip.mesh.width, record.chip.mesh.height
    assert text.count('<rect class="core"') == n_cores
    assert text.count('<line class="link"') == (w - 1) * h + (h - 1) * w
    titles = re.findall(r"<title>core (\d+) ", text)
    assert sorted(map(int, titles)) == list(range(n_cores))
    used = np.unique(record.neuron_core)
    for c in used:
        n = int(np.count_nonzero(record.neuron_core == c))
        assert f"core {c} ({c % w}, {c // w}): {n:,} neurons" in text


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_headless_chromium_renders_it_without_console_errors(record, tmp_path):
    # skipped without Debian's chromium (make test installs it); CI requires it
    require_or_skip(_chromium() is not None, "Debian's chromium", env="NEUROCHIP_REQUIRE_CHROMIUM")
    page = tmp_path / "r.html"
    write_html_report(record, page)
    shot = tmp_path / "shot.png"
    cmd = [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--enable-logging=stderr", "--v=0", "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # a rendered page, not a blank one
    if os.environ.get("NEUROCHIP_UPDATE_DOCS_IMG"):
        (ROOT / "docs" / "img" / "report-html.png").write_bytes(png)
