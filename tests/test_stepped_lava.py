"""Loihi's integer LIF against Lava's own bit-accurate models, run in Lava, step by step.

Lava (``lava-nc``) needs Python < 3.11 and an older numpy, so it lives in a venv of its own; set
``NEUROCHIP_LAVA_PYTHON`` to that venv's Python to run this test (it is skipped otherwise).  On
this machine (Python 3.11) ``pip install --ignore-requires-python "lava-nc==0.10.0" "scipy<1.17"
"numpy<2"`` installs it, and one line of Lava needs ``@dataclass(unsafe_hash=True)`` on
``lava.magma.compiler.var_model.ByteEncoder`` to import under 3.11 (a mutable default); the LIF
and Dense models are untouched.

The network is run by Lava as one bit-accurate ``LIF`` process per population (Lava's LIF has one
du, dv and vth per process) and one bit-accurate ``Dense`` process per connection, with the
integers neurochip's conversion produced; Lava's monitors record u, v and the spikes of every
step.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from neurochip.chip import load_chip
from neurochip.lif import LIFParams
from neurochip.models.cuba import Cuba
from neurochip.network import FixedProbability, Network, Population, Projection
from neurochip.stepped import run_stepped

LAVA_PYTHON = os.environ.get("NEUROCHIP_LAVA_PYTHON", "")

RUNNER = r'''
import json, sys
import numpy as np
from lava.proc.lif.process import LIF
from lava.proc.dense.process import Dense
from lava.proc.monitor.process import Monitor
from lava.magma.core.run_configs import Loihi1SimCfg
from lava.magma.core.run_conditions import RunSteps

spec = json.load(open(sys.argv[1]))
steps = spec["steps"]
lifs = {}
for p in spec["populations"]:
    lifs[p["name"]] = LIF(shape=(p["size"],), du=p["du"], dv=p["dv"], vth=p["vth"],
                          bias_mant=np.array(p["bias_mant"]), bias_exp=np.array(p["bias_exp"]),
                          v=np.array(p["v0"]), u=np.zeros(p["size"]), name=p["name"])
for g in spec["connections"]:
    d = Dense(weights=np.array(g["weights"]), weight_exp=g["weight_exp"], num_weight_bits=8)
    lifs[g["pre"]].s_out.connect(d.s_in)
    d.a_out.connect(lifs[g["post"]].a_in)
monitors = {}
for name, lif in lifs.items():
    monitors[name] = {k: Monitor() for k in ("u", "v", "s_out")}
    for k, m in monitors[name].items():
        m.probe(getattr(lif, k), steps)
first = next(iter(lifs.values()))
first.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi1SimCfg(select_tag="fixed_pt"))
out = {name: {k: np.asarray(m.get_data()[name][k]).tolist() for k, m in ms.items()} for name, ms in monitors.items()}
first.stop()
json.dump(out, sys.stdout)
'''


def lava_network(seed: int) -> Network:
    rng = np.random.default_rng(seed)

    def pop(name, size, g_leak, model, bias_hi):
        p = LIFParams(c_m_farad=200e-12, g_leak_siemens=g_leak, v_th_volt=0.02, v_reset_volt=0.0, e_leak_volt=0.0, t_ref_s=0.0)
        return Population(name=name, size=size, params=p, model=model, bias_current_amp=rng.uniform(0.05e-9, bias_hi, size),
                          v_init_volt=rng.uniform(0.0, 0.015, size))

    return Network(
        populations=(pop("E", 10, 10e-9, Cuba(tau_syn_exc_s=5e-3), 0.5e-9), pop("I", 4, 15e-9, Cuba(tau_syn_exc_s=2e-3), 0.4e-9),
                     pop("D", 6, 5e-9, None, 0.2e-9)),
        projections=(
            Projection(pre="E", post="E", rule=FixedProbability(p=0.3), weight_volt=lambda r, k: r.uniform(0.5e-3, 4e-3, k)),
            Projection(pre="E", post="I", rule=FixedProbability(p=0.4), weight_volt=3e-3),
            Projection(pre="I", post="E", rule=FixedProbability(p=0.4), weight_volt=lambda r, k: r.uniform(-8e-3, -2e-3, k)),
            Projection(pre="E", post="D", rule=FixedProbability(p=0.3), weight_volt=lambda r, k: r.uniform(-3e-3, 9e-3, k)),
            Projection(pre="D", post="D", rule=FixedProbability(p=0.3), weight_volt=lambda r, k: r.uniform(-5e-3, 5e-3, k)),
            # small weights: a negative weight exponent, so the sum is floored by the shift
            Projection(pre="D", post="E", rule=FixedProbability(p=0.5), weight_volt=lambda r, k: r.uniform(0.01e-3, 0.2e-3, k)),
        ),
        seed=seed,
    )


@pytest.mark.skipif(not (LAVA_PYTHON and Path(LAVA_PYTHON).exists()), reason="NEUROCHIP_LAVA_PYTHON (a Python with lava-nc) not set")
@pytest.mark.parametrize("seed", [11, 12])
def test_integer_states_and_spikes_equal_lavas(seed, tmp_path):
    net = lava_network(seed)
    n, steps = net.n_neurons, 120
    run = run_stepped(net, load_chip("loihi"), steps=steps, dt_s=1e-3, record=np.arange(n))
    nr, syn = run.neurons, run.synapses
    assert np.all(syn.delay == 1) and syn.weight_exp.min() < 0
    pops, offsets = [], {}
    start = 0
    for p in net.populations:
        sl = slice(start, start + p.size)
        offsets[p.name] = start
        for key in ("du", "dv", "vth"):
            assert np.unique(getattr(nr, key)[sl]).size == 1  # one value per Lava process
        pops.append({"name": p.name, "size": p.size, "du": int(nr.du[start]), "dv": int(nr.dv[start]), "vth": int(nr.vth[start]),
                     "bias_mant": nr.bias_mant[sl].tolist(), "bias_exp": nr.bias_exp[sl].tolist(), "v0": nr.v0[sl].tolist()})
        start += p.size
    pre = np.repeat(np.arange(n), np.diff(syn.indptr))
    conns = []
    for g, name in enumerate(syn.group_names):
        a, b = name.split("->")
        w = np.zeros((net.population(b).size, net.population(a).size), dtype=np.int64)
        sel = syn.group == g
        np.add.at(w, (syn.indices[sel] - offsets[b], pre[sel] - offsets[a]), syn.mant[sel])
        assert np.abs(w).max() <= 256  # no duplicate synapse pushed a weight out of 8 bits
        conns.append({"pre": a, "post": b, "weights": w.tolist(), "weight_exp": int(syn.weight_exp[g])})
    (tmp_path / "spec.json").write_text(json.dumps({"steps": steps, "populations": pops, "connections": conns}))
    (tmp_path / "runner.py").write_text(RUNNER)
    out = subprocess.run([LAVA_PYTHON, str(tmp_path / "runner.py"), str(tmp_path / "spec.json")],
                         capture_output=True, text=True, timeout=600, check=True)
    lava = json.loads(out.stdout)
    u = np.concatenate([np.asarray(lava[p.name]["u"]) for p in net.populations], axis=1)
    v = np.concatenate([np.asarray(lava[p.name]["v"]) for p in net.populations], axis=1)
    s = np.concatenate([np.asarray(lava[p.name]["s_out"]) for p in net.populations], axis=1) != 0
    np.testing.assert_array_equal(run.trace_u, u.astype(np.int64))
    np.testing.assert_array_equal(run.trace_v, v.astype(np.int64))
    np.testing.assert_array_equal(run.spike_raster(), s)
    assert 10 < s.sum() < 0.5 * s.size
