"""The reference backend: the emulator's behaviour, written plainly (one global event queue).

This module defines what the compiled engine must do; it is slow (pure Python per event) and
meant for small networks and for the parity test.  The rules:

* Between events each neuron follows :math:`V(t) = V_\\infty + (V(t_0) - V_\\infty)
  e^{-(t - t_0)/\\tau}`, :math:`V_\\infty = E_L + I/g_L`.
* An input (given spike, Poisson spike or recurrent arrival) of weight w at t makes V jump by
  w; if then V >= V_th the neuron spikes at t.  With V_inf > V_th the neuron also spikes by
  drift at t* = t0 + tau ln((V_inf - V(t0)) / (V_inf - V_th)).
* After a spike at t the neuron is held at V_reset during [t, t + t_ref): inputs arriving in
  that interval are discarded (counted), current steps change V_inf only.
* A spike at t of neuron i reaches target j at t + d (d the synapse's delay, > 0).
* Equal times: events are processed in the order (time, kind, ...) with kind: drift crossing,
  current step, given spike, Poisson spike, recurrent arrival (own inputs are applied and
  tested one by one).  All recurrent arrivals of one instant are summed before the threshold
  is tested (a volley of simultaneous excitatory and inhibitory spikes acts as its sum, as on
  a clock-driven simulator's time step).  The spike log is sorted by (time, address).

Poisson inputs are the engine's own per-neuron streams (``_random.poisson_train``, the plain
Python copy of the engine's generator, drawn in the same order), so both backends see
identical inputs.  Nothing here needs the compiled engine.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from ..network import SynapseCSR
from ._prepare import Prepared
from ._random import poisson_train

_DRIFT, _STEP, _GIVEN, _POISSON, _REC = 0, 1, 2, 3, 4


def run_reference(prep: Prepared, csr: SynapseCSR, duration_s: float, seed: int, route: dict | None = None) -> tuple:
    """Run; returns (times, ids, spike_count, counters dict).  With ``route`` (the routing
    tables of neurochip.emulator._routing) every spike goes through the router (_Router) and
    the tables' output arrays are filled in."""
    n = prep.n
    with np.errstate(divide="ignore"):
        tau = 1.0 / prep.inv_tau
    vinf = prep.vinf.copy()
    w_ad = np.zeros(n)  # adaptation current at t_last (general state)
    v = prep.v0.copy()
    t_last = np.zeros(n)
    ref_until = np.full(n, -math.inf)
    version = np.zeros(n, np.int64)
    counts = np.zeros(n, np.int64)
    cnt = dict.fromkeys(
        ("rec_events", "rec_discarded", "ext_events", "ext_discarded", "neuron_updates", "spikes",
         "current_steps", "drift_spikes"), 0)  # fmt: skip
    heap: list[tuple] = []
    for i in range(n):
        for k in range(prep.st_ptr[i], prep.st_ptr[i + 1]):
            if prep.st_t[k] < duration_s:
                heapq.heappush(heap, (prep.st_t[k], _STEP, i, k))
        for k in range(prep.sin_ptr[i], prep.sin_ptr[i + 1]):
            heapq.heappush(heap, (prep.sin_t[k], _GIVEN, i, k))
        if prep.rate[i] > 0:
            lo, hi = prep.pois_ptr[i], prep.pois_ptr[i + 1]
            times, src = poisson_train(seed, i, float(prep.rate[i]), prep.pois_cum[lo:hi].copy(), duration_s)
            for seq, (t, j) in enumerate(zip(times.tolist(), src.tolist())):
                heapq.heappush(heap, (t, _POISSON, i, seq, float(prep.pois_w[lo + j])))
    spikes: list[tuple[float, int]] = []
    syn_idx, syn_w = csr.indices, csr.weights
    router = None
    pend: list[int] = []  # neurons that spiked at t_pend, not yet injected
    t_pend = [0.0]
    late = [0]  # routed arrivals due at or after the end
    if route is not None:
        syn_idx, syn_w = route["sub_indices"], route["sub_weights"]
        sub_ptr = route["sub_indptr"]

        def sub_event(ta: float, sub: int) -> None:
            if ta >= duration_s:
                late[0] += 1
                return
            route["sub_delivered"][sub] += 1
            for s in range(sub_ptr[sub], sub_ptr[sub + 1]):
                heapq.heappush(heap, (ta, _REC, sub, 0.0, 0, s))

        router = _Router(route, csr.delays_s, sub_event)

    def inject_pending() -> None:
        """The spikes of one instant enter the router in address order, after the router's
        own events at that instant (the engine's order)."""
        while router.top() <= t_pend[0]:
            router.pop_event()
        src_core = route["neuron_core"]
        for i in sorted(pend):
            for e in range(route["route_indptr"][i], route["route_indptr"][i + 1]):
                router.inject(int(src_core[i]), t_pend[0], e)
        pend.clear()

    # a plug-in model (neurochip.models) brings its own neurons; the built-in LIF is below
    nrn = prep.model_class.reference(prep, vinf) if prep.model_class is not None else None

    def value(i: int, t: float) -> float:
        if prep.gen:
            return _general_v(prep, vinf, v, w_ad, i, t - t_last[i])
        return vinf[i] + (v[i] - vinf[i]) * math.exp(-(t - t_last[i]) / tau[i])

    def move(i: int, t: float) -> None:
        v[i] = value(i, t)
        w_ad[i] *= math.exp(-prep.inv_tau_w[i] * (t - t_last[i]))
        t_last[i] = t

    def schedule_drift(i: int) -> None:
        version[i] += 1
        if nrn is not None:
            ts = nrn.crossing(i, duration_s)
            if ts is not None and ts < duration_s:
                heapq.heappush(heap, (ts, _DRIFT, i, int(version[i])))
        elif prep.gen:
            dt = _general_crossing(prep, vinf, v, w_ad, i, duration_s - t_last[i])
            if dt is not None:
                heapq.heappush(heap, (t_last[i] + dt, _DRIFT, i, int(version[i])))
        elif vinf[i] > prep.vth[i]:
            ts = t_last[i] + tau[i] * math.log((vinf[i] - v[i]) / (vinf[i] - prep.vth[i]))
            if ts < duration_s:
                heapq.heappush(heap, (ts, _DRIFT, i, int(version[i])))

    def spike(i: int, t: float) -> None:
        counts[i] += 1
        cnt["spikes"] += 1
        cnt["neuron_updates"] += 1
        spikes.append((t, i))
        if nrn is not None:
            nrn.spike(i, t)
        else:
            ref_until[i] = t + prep.tref[i]
            b = prep.inv_tau_w[i]
            w_ad[i] = (w_ad[i] * math.exp(-b * (t - t_last[i])) + prep.binc[i]) * math.exp(-b * prep.tref[i])
            v[i] = prep.vreset[i]
            t_last[i] = ref_until[i]
        if router is not None:
            pend.append(i)
            t_pend[0] = t
            schedule_drift(i)
            return
        for j, d in enumerate(csr.delays_s):
            row = j * n + i
            for s in range(csr.indptr[row], csr.indptr[row + 1]):
                ta = t + d
                if ta < duration_s:
                    heapq.heappush(heap, (ta, _REC, j, t, i, s))
        schedule_drift(i)

    def add(i: int, t: float, w: float) -> bool:
        """Input w at t: False if discarded (refractory)."""
        if nrn is not None:
            return nrn.receive(i, t, w)
        if t < ref_until[i]:
            return False
        move(i, t)
        v[i] += w
        return True

    def above(i: int, t: float) -> bool:
        return nrn.above(i, t) if nrn is not None else bool(v[i] >= prep.vth[i])

    def receive(i: int, t: float, w: float) -> bool:
        if not add(i, t, w):
            return False
        cnt["neuron_updates"] += 1
        if above(i, t):
            spike(i, t)
        else:
            schedule_drift(i)
        return True

    for i in range(n):
        if (nrn.start(i) if nrn is not None else v[i] >= prep.vth[i]):
            spike(i, 0.0)
        else:
            schedule_drift(i)

    while True:
        if router is not None:
            t_next = heap[0][0] if heap else math.inf
            if pend and t_next > t_pend[0]:
                inject_pending()
                continue
            if router.top() < min(t_next, duration_s):
                router.pop_event()
                continue
        if not heap:
            break
        ev = heapq.heappop(heap)
        t, kind = ev[0], ev[1]
        if kind == _DRIFT:
            i = ev[2]
            if ev[3] == version[i]:
                cnt["drift_spikes"] += 1
                spike(i, t if nrn is not None else max(t, ref_until[i]))
        elif kind == _STEP:
            i, k = ev[2], ev[3]
            cnt["current_steps"] += 1
            cnt["neuron_updates"] += 1
            if nrn is not None:
                nrn.step(i, t, prep.st_vinf[k])
            else:
                if t >= ref_until[i]:
                    move(i, t)
                vinf[i] = prep.st_vinf[k]
            schedule_drift(i)
        elif kind in (_GIVEN, _POISSON):
            i = ev[2]
            w = prep.sin_w[ev[3]] if kind == _GIVEN else ev[4]
            cnt["ext_events"] += 1
            if not receive(i, t, w):
                cnt["ext_discarded"] += 1
        else:
            # every recurrent arrival of this instant (they are adjacent in the queue), summed
            # before the threshold test
            group = [ev]
            while heap and heap[0][0] == t and heap[0][1] == _REC:
                group.append(heapq.heappop(heap))
            touched: dict[int, None] = {}
            for g in group:
                s = g[5]
                i = int(syn_idx[s])
                cnt["rec_events"] += 1
                if not add(i, t, float(syn_w[s])):
                    cnt["rec_discarded"] += 1
                    continue
                cnt["neuron_updates"] += 1
                touched[i] = None
            for i in touched:
                if above(i, t):
                    spike(i, t)
                else:
                    schedule_drift(i)

    if router is not None:
        router.finish(late[0])
    spikes.sort()
    times = np.array([s[0] for s in spikes], dtype=np.float64)
    ids = np.array([s[1] for s in spikes], dtype=np.int32)
    return times, ids, counts, cnt


def _phi(d: float, t: float) -> float:
    return t if abs(d * t) < 1e-300 else math.expm1(d * t) / d


def _general_v(prep: Prepared, drive: np.ndarray, v: np.ndarray, w_ad: np.ndarray, i: int, dt: float) -> float:
    """V after dt of a perfect integrator or adaptive LIF (docs/emulator.md, general state)."""
    a, b, q = prep.inv_tau[i], prep.inv_tau_w[i], w_ad[i] / prep.cm[i]
    if a == 0.0:
        if q == 0.0:
            return v[i] + drive[i] * dt
        return v[i] + drive[i] * dt - q * _phi(-b, dt)
    if q == 0.0:
        return drive[i] + math.exp(-a * dt) * (v[i] - drive[i])
    if (a - b) * dt > 700.0:  # expm1 would overflow: the difference form, exact there
        return drive[i] + math.exp(-a * dt) * (v[i] - drive[i]) - q * ((math.exp(-b * dt) - math.exp(-a * dt)) / (a - b))
    return drive[i] + math.exp(-a * dt) * ((v[i] - drive[i]) - q * _phi(a - b, dt))


def _general_crossing(prep: Prepared, drive, v, w_ad, i: int, horizon: float) -> float | None:
    """First dt in [0, horizon] with V >= V_th (brentq on the bracket of the one extremum)."""
    from scipy.optimize import brentq, minimize_scalar

    vth = prep.vth[i]

    def f(dt: float) -> float:
        return _general_v(prep, drive, v, w_ad, i, dt) - vth

    if f(0.0) >= 0:
        return 0.0
    if horizon <= 0 or not math.isfinite(horizon):
        return None
    # V has at most one extremum: find the maximum of V on [0, horizon] numerically (an
    # independent route from the engine's closed-form extremum)
    best = minimize_scalar(lambda t: -f(t), bounds=(0.0, horizon), method="bounded", options={"xatol": 1e-15})
    t_max = float(best.x)
    if f(t_max) >= 0:
        return brentq(f, 0.0, t_max, xtol=1e-18, rtol=4 * np.finfo(float).eps)
    if f(horizon) >= 0:
        return brentq(f, t_max, horizon, xtol=1e-18, rtol=4 * np.finfo(float).eps)
    return None


class _Router:
    """The router of docs/emulator.md ("Routing"), written plainly: the same discrete-event
    model as the engine's (same event order: (time, push order)), filling the same arrays."""

    def __init__(self, tables: dict, delays: np.ndarray, sub_event) -> None:
        self.tb = tables
        self.m = int(tables["n_cores"])
        self.w = int(tables["width"])
        self.hop = float(tables["hop_latency_s"])
        self.ser = 1.0 / float(tables["link_bandwidth_hz"])
        self.depth = int(tables["buffer_depth"])
        self.bp = bool(tables["backpressure"])
        self.rcore = tables["route_cores"]
        self.delays = delays
        self.sub_event = sub_event  # callback(time, sub-row)
        nl = self.n4 = 4 * self.m
        # a board: on-chip slots crossing a chip edge stand for inter-chip channels (ids >= n4)
        self.lmap = tables.get("link_map")
        self.gtab = tables.get("graph_table")  # a graph board: the next link towards each chip
        if self.gtab is not None:
            self.chipof, self.nchips = tables["core_chip"], int(tables["n_chips"])
            self.cfar = tables["channel_far"]
            self.cin_ptr, self.cin = tables["channel_in_ptr"], tables["channel_in"]
        if tables.get("channel_dir") is not None:
            self.cdir = tables["channel_dir"]
            self.cfeed_ptr, self.cfeed = tables["channel_feed_ptr"], tables["channel_feed"]
            nl += int(self.cdir.size)
            self.xhop = float(tables["channel_latency_s"])
            self.xser = float(tables["channel_serialisation_s"])
            self.xdepth = int(tables["channel_buffer_depth"])
            self.xbp = bool(tables["channel_backpressure"])
        self.queue: list[list[dict]] = [[] for _ in range(nl)]
        self.occ = [0] * nl
        self.busy = [False] * nl
        self.blocked = [False] * nl
        self.inj: list[list[dict]] = [[] for _ in range(self.m)]
        self.heap: list[tuple] = []
        self.seq = 0
        self.cc = tables["core_counters"].reshape(6, self.m)
        self.lc = tables["link_counters"].reshape(4, nl)
        self.latency: list[float] = []

    def _p(self, link: int) -> tuple[float, float, int, bool]:
        """(serialisation, latency, depth, backpressure) of a link."""
        if link < self.n4:
            return self.ser, self.hop, self.depth, self.bp
        return self.xser, self.xhop, self.xdepth, self.xbp

    def top(self) -> float:
        return self.heap[0][0] if self.heap else math.inf

    def _push(self, t: float, kind: int, item) -> None:
        heapq.heappush(self.heap, (t, self.seq, kind, item))
        self.seq += 1

    def _link(self, at: int, dst: int) -> int:
        if self.gtab is not None and self.chipof[at] != self.chipof[dst]:
            return int(self.gtab[at * self.nchips + self.chipof[dst]])
        x0, x1 = at % self.w, dst % self.w
        if x1 != x0:
            slot = at * 4 + (0 if x1 > x0 else 1)
        elif dst != at:
            slot = at * 4 + (2 if dst > at else 3)
        else:
            return -1
        return slot if self.lmap is None else int(self.lmap[slot])

    def _far(self, link: int, p: dict) -> int:
        if link < self.n4:
            at, d = divmod(link, 4)
        elif self.gtab is not None:
            return int(self.cfar[link - self.n4])
        else:
            at, d = p["at"], int(self.cdir[link - self.n4])
        return at + (1, -1, self.w, -self.w)[d]

    def _enqueue(self, link: int, p: dict) -> None:
        self.queue[link].append(p)
        self.lc[1, link] = max(self.lc[1, link], len(self.queue[link]))

    def _try(self, link: int, t: float) -> None:
        if self.busy[link] or not self.queue[link]:
            return
        p = self.queue[link][0]
        self.blocked[link] = False
        far = self._far(link, p)
        nxt = self._link(far, int(self.rcore[p["e"]]))
        if nxt >= 0 and self._p(nxt)[3]:
            if self.occ[nxt] >= self._p(nxt)[2]:
                self.blocked[link] = True
                return
            self.occ[nxt] += 1
        self.busy[link] = True
        ser, hop = self._p(link)[:2]
        # the end of the serialisation, then the arrival at the next router, scheduled now
        self._push(t + ser, 0, link)
        p["at"] = far
        self._push(t + ser + hop, 1, p)

    def _deliver(self, p: dict, t: float) -> None:
        lat = t - p["t0"]
        self.latency.append(lat)
        e = p["e"]
        step = float(self.tb.get("delivery_step_s") or 0.0)
        for k in range(self.tb["entry_sub_ptr"][e], self.tb["entry_sub_ptr"][e + 1]):
            s = int(self.tb["entry_sub"][k])
            ta = t + self.delays[self.tb["sub_class"][s]]
            if step > 0:  # the next step boundary, never earlier (as the engine's _rt_step)
                ta = max(math.ceil(ta / step - 1e-9) * step, ta)
            self.sub_event(ta, s)

    def _wake(self, link: int, t: float) -> None:
        if link < self.n4:
            self._wake_at(link // 4, t)
            return
        c = link - self.n4
        for at in self.cfeed[self.cfeed_ptr[c] : self.cfeed_ptr[c + 1]]:
            self._wake_at(int(at), t)

    def _wake_at(self, at: int, t: float) -> None:
        while self.inj[at]:
            p = self.inj[at][0]
            hl = self._link(at, int(self.rcore[p["e"]]))
            depth, bp = self._p(hl)[2:]
            if not bp:  # a lossy link, waiting only behind another packet: goes or is dropped
                self.inj[at].pop(0)
                if len(self.queue[hl]) >= depth:
                    self.lc[3, hl] += 1
                    self.cc[5, at] += 1
                else:
                    self._enqueue(hl, p)
                    self._try(hl, t)
                continue
            if self.occ[hl] >= depth:
                break
            self.inj[at].pop(0)
            self.occ[hl] += 1
            self._enqueue(hl, p)
            self._try(hl, t)
        w = self.w
        ups = (
            (at - 1) * 4 if at % w > 0 else -1,
            (at + 1) * 4 + 1 if at % w < w - 1 else -1,
            (at - w) * 4 + 2 if at - w >= 0 else -1,
            (at + w) * 4 + 3 if at + w < self.m else -1,
        )
        for up in ups:
            if up >= 0 and self.lmap is not None:
                up = int(self.lmap[up])
            if up >= 0 and self.blocked[up]:
                self._try(up, t)
        if self.gtab is not None:  # a graph board's channels arriving here
            for c in self.cin[self.cin_ptr[at] : self.cin_ptr[at + 1]]:
                if self.blocked[int(c)]:
                    self._try(int(c), t)

    def pop_event(self) -> None:
        t, _, kind, item = heapq.heappop(self.heap)
        if kind == 0:  # end of a serialisation on link `item`
            link = item
            self.queue[link].pop(0)
            self.busy[link] = False
            self.tb["link_busy_s"][link] += self._p(link)[0]
            self.lc[0, link] += 1
            if link < self.n4:
                self.cc[3 if link % 4 < 2 else 4, link // 4] += 1
            self._try(link, t)
            if self._p(link)[3]:
                self.occ[link] -= 1
                self._wake(link, t)
            return
        p = item
        nxt = self._link(p["at"], int(self.rcore[p["e"]]))
        if nxt < 0:
            self.cc[1, p["at"]] += 1
            self._deliver(p, t)
            return
        if not self._p(nxt)[3] and len(self.queue[nxt]) >= self._p(nxt)[2]:
            self.lc[2, nxt] += 1
            return
        self._enqueue(nxt, p)
        self._try(nxt, t)

    def inject(self, src: int, t: float, e: int) -> None:
        dst = int(self.rcore[e])
        self.cc[0, src] += 1
        p = {"t0": t, "e": e, "at": src}
        if dst == src:
            self.cc[2, src] += 1
            self.cc[1, src] += 1
            self._deliver(p, t)
            return
        link = self._link(src, dst)
        depth, bp = self._p(link)[2:]
        if not bp and not self.inj[src] and len(self.queue[link]) >= depth:
            self.lc[3, link] += 1
            self.cc[5, src] += 1
            return
        if bp or self.inj[src]:  # (a lossy link waits only behind a waiting packet: FIFO order)
            if self.inj[src] or self.occ[link] >= depth:
                self.inj[src].append(p)
                return
            self.occ[link] += 1
        self._enqueue(link, p)
        self._try(link, t)

    def finish(self, pending_arrivals: int) -> None:
        tb = self.tb
        lat = np.array(self.latency, dtype=np.float64)
        tb["latency"] = lat if tb["keep_latency"] else np.zeros(0)
        tb["latency_sum_s"] = float(np.sum(lat)) if lat.size else 0.0
        tb["latency_max_s"] = float(lat.max()) if lat.size else 0.0
        tb["latency_count"] = int(lat.size)
        # on a hop: scheduled arrivals, less those of the packets still being serialised
        tb["packets_in_flight"] = sum(1 for ev in self.heap if ev[2] == 1) - sum(self.busy)
        tb["packets_queued"] = sum(len(q) for q in self.queue)
        tb["packets_waiting_at_source"] = sum(len(q) for q in self.inj)
        tb["pending_arrivals"] = pending_arrivals
