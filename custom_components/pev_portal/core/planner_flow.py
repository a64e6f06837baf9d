"""The planner's exact allocation: a min-cost max-flow of the vehicle/slot transportation
problem (see :mod:`.planner`, "The algorithm")."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from .planner_model import _INF, _TIE, EPS, PlanningError


def min_cost_allocation(
    demands: Sequence[float],
    arcs: Sequence[tuple[int, int, float, float]],
    slot_caps: Sequence[float] | None,
    *,
    late: Sequence[bool] | None = None,
) -> list[float]:
    """Exact min-cost max-flow of the vehicle/slot transportation problem.

    ``demands[v]``: energy wanted by vehicle ``v``; ``arcs``: ``(vehicle, slot, capacity,
    cost)``; ``slot_caps[t]``: capacity of slot ``t`` shared by all arcs into it (``None``:
    unlimited). Returns the flow of every arc: the largest total flow and, among those, the
    cheapest. ``late[v]`` breaks price ties toward later slots for vehicle ``v`` (default
    earlier). See the module docstring for the algorithm.
    """
    n = len(demands)
    m = len(arcs)
    av = [a[0] for a in arcs]
    at = [a[1] for a in arcs]
    cap = [max(0.0, a[2]) for a in arcs]
    cost = [a[3] for a in arcs]
    sign = [(-1 if late is not None and late[v] else 1) for v in range(n)]
    key = [sign[av[a]] * at[a] for a in range(m)]
    flow = [0.0] * m

    coupled = False
    if slot_caps is not None:
        per_slot: dict[int, float] = {}
        for a in range(m):
            per_slot[at[a]] = per_slot.get(at[a], 0.0) + cap[a]
        coupled = any(total > slot_caps[t] + EPS for t, total in per_slot.items())

    if not coupled:
        by_vehicle: list[list[int]] = [[] for _ in range(n)]
        for a in range(m):
            if cap[a] > EPS:
                by_vehicle[av[a]].append(a)
        for v in range(n):
            need = demands[v]
            if need <= EPS:
                continue
            for a in sorted(by_vehicle[v], key=lambda i: (cost[i], key[i])):
                take = min(cap[a], need)
                flow[a] = take
                need -= take
                if need <= EPS:
                    break
        return flow

    assert slot_caps is not None
    _ssp(n, demands, av, at, cap, cost, key, flow, slot_caps)
    return flow


def _ssp(
    n: int,
    demands: Sequence[float],
    av: list[int],
    at: list[int],
    cap: list[float],
    cost: list[float],
    key: list[int],
    flow: list[float],
    slot_caps: Sequence[float],
) -> None:
    """Successive shortest paths on the vehicle graph (see module docstring)."""
    sent = [0.0] * n
    load: dict[int, float] = {}
    arcs_at: dict[int, list[int]] = {}
    sink: list[list[tuple[float, int, int]]] = [[] for _ in range(n)]
    for a in range(len(av)):
        if cap[a] <= EPS:
            continue
        arcs_at.setdefault(at[a], []).append(a)
        if slot_caps[at[a]] > EPS:
            sink[av[a]].append((cost[a], key[a], a))
    for h in sink:
        heapq.heapify(h)
    pair: list[list[list[tuple[float, int, int, int]]]] = [[[] for _ in range(n)] for _ in range(n)]
    inf = _INF
    rng_n = range(n)
    # A guard, never reached in the tests: each augmentation saturates an arc, empties one,
    # fills a slot or meets a demand, each arc at most a few times over.
    rounds, limit = 0, 20 * (len(av) + n) + 1000
    w_pair: list[list[float]] = [[inf] * n for _ in rng_n]
    e_pair: list[list[tuple[int, int]]] = [[(-1, -1)] * n for _ in rng_n]
    dirty: set[tuple[int, int]] = {(i, j) for i in rng_n for j in rng_n}

    w_sink: list[float] = [inf] * n
    a_sink: list[int] = [-1] * n
    sink_dirty: set[int] = set(rng_n)
    pi = [0.0] * n  # potentials of the vehicles and of the sink
    pi_k: float | None = None
    done = [False] * n

    while True:
        # Edge weights: tops of the lazily cleaned heaps (those an augmentation touched).
        for i in sink_dirty:
            w_sink[i] = inf
            a_sink[i] = -1
            h = sink[i]
            while h:
                _, _, a = h[0]
                t = at[a]
                if cap[a] - flow[a] > EPS and slot_caps[t] - load.get(t, 0.0) > EPS:
                    w_sink[i] = h[0][0]
                    a_sink[i] = a
                    break
                heapq.heappop(h)
        sink_dirty = set()
        # Only the pairs an augmentation touched can have a new top (see below).
        for i, j in dirty:
            hp = pair[i][j]
            w_pair[i][j] = inf
            e_pair[i][j] = (-1, -1)
            while hp:
                _, _, a, b = hp[0]
                if cap[a] - flow[a] > EPS and flow[b] > EPS:
                    w_pair[i][j] = hp[0][0]
                    e_pair[i][j] = (a, b)
                    break
                heapq.heappop(hp)
        dirty = set()
        # Dijkstra on reduced weights (w + pi[i] - pi[j] >= 0, see below) from the vehicles
        # that still want energy (their start: the source's edge, reduced -pi[i] >= 0),
        # stopped once no open vehicle can reach the sink cheaper than the best found.
        if pi_k is None:  # first round: no pair edges yet, every sink edge reduced >= 0
            pi_k = min((w for w in w_sink if w < inf), default=0.0)
        dist = [-pi[i] if demands[i] - sent[i] > EPS else inf for i in rng_n]
        open_d = list(dist)
        pred = [-1] * n
        best = inf
        last = -1
        while True:
            du = min(open_d)
            if du >= best or du == inf:
                break
            u = open_d.index(du)
            open_d[u] = inf
            done[u] = True
            if w_sink[u] < inf:
                r = du + w_sink[u] + pi[u] - pi_k
                if r < best:
                    best, last = r, u
            pu = du + pi[u]
            row = w_pair[u]
            for j in [j for j in rng_n if pu + row[j] - pi[j] < dist[j] - 1e-12 and not done[j]]:
                dist[j] = open_d[j] = pu + row[j] - pi[j]
                pred[j] = u
        for k in rng_n:
            done[k] = False
        if last < 0:
            return
        # New potentials: every reduced weight stays >= 0 (the distances capped at the
        # sink's, the standard update for a Dijkstra stopped early).
        for k in rng_n:
            d = dist[k]
            pi[k] += d if d < best else best
        pi_k += best
        rounds += 1
        if rounds > limit:
            raise PlanningError(
                f"the flow did not converge in {limit} augmentations (demands {list(demands)})"
            )
        # The path, from the sink back to the vehicle that starts it.
        path: list[tuple[int, int]] = []  # (forward arc, backward arc or -1)
        j = last
        seen = {j}
        while pred[j] >= 0:
            i = pred[j]
            path.append(e_pair[i][j])
            j = i
            if j in seen:  # pragma: no cover - no negative cycles by construction
                raise RuntimeError("negative cycle in the residual graph")
            seen.add(j)
        first = j
        a_last = a_sink[last]
        t_last = at[a_last]
        # A last hop that only moves the last vehicle within the slot it ends in (it leaves
        # arc b of slot t and enters arc a_last of the same slot, no cheaper) is no hop at all:
        # the vehicle before it enters the slot directly, at no higher cost. Kept, its
        # bottleneck could be the last vehicle's tiny flow on b, augmented again and again.
        while path and at[path[0][1]] == t_last and cost[a_last] >= cost[path[0][1]] - _TIE:
            a_last = path[0][0]
            path.pop(0)
        delta = min(
            demands[first] - sent[first],
            cap[a_last] - flow[a_last],
            slot_caps[t_last] - load.get(t_last, 0.0),
        )
        for a, b in path:
            delta = min(delta, cap[a] - flow[a], flow[b])
        # Augment. Heap entries only become valid again when an arc gets its first flow (a
        # new backward edge) or loses its saturation (a new forward edge); the circuit's room
        # never grows. Those are re-offered; stale entries are dropped lazily above.
        sent[first] = (
            demands[first] if demands[first] - sent[first] - delta <= EPS else sent[first] + delta
        )
        new_load = load.get(t_last, 0.0) + delta
        if slot_caps[t_last] - new_load <= EPS:  # the slot is full: its sink edges are gone
            load[t_last] = slot_caps[t_last]
            sink_dirty.update(i for i in rng_n if a_sink[i] >= 0 and at[a_sink[i]] == t_last)
        else:
            load[t_last] = new_load
        gained_flow: list[int] = []
        gained_room: list[int] = []
        forward = [a_last, *(a for a, _ in path)]
        # A pair's top (a, b) turns invalid only when a saturates or b empties (its weight
        # never changes): only the pairs of those arcs' vehicles are read again; pushes below
        # mark their own pair.
        for a in forward:
            if flow[a] <= EPS:
                gained_flow.append(a)
            if cap[a] - flow[a] - delta <= EPS:
                flow[a] = cap[a]
                x = av[a]
                sink_dirty.add(x)
                for k in rng_n:
                    dirty.add((x, k))
            else:
                flow[a] += delta
        for _, b in path:
            if cap[b] - flow[b] <= EPS:
                gained_room.append(b)
            if flow[b] - delta <= EPS:
                flow[b] = 0.0
                x = av[b]
                for k in rng_n:
                    dirty.add((k, x))
            else:
                flow[b] -= delta
        for b in gained_flow:  # new backward edges x -> vehicle of b
            if flow[b] <= EPS:
                continue
            vb = av[b]
            for a in arcs_at[at[b]]:
                va = av[a]
                if va != vb and cap[a] - flow[a] > EPS:
                    heapq.heappush(pair[va][vb], (cost[a] - cost[b], key[a], a, b))
                    dirty.add((va, vb))
        for a in gained_room:  # new forward edges from the vehicle of a
            if cap[a] - flow[a] <= EPS:
                continue
            va = av[a]
            t = at[a]
            if slot_caps[t] - load.get(t, 0.0) > EPS:
                heapq.heappush(sink[va], (cost[a], key[a], a))
                sink_dirty.add(va)
            for b in arcs_at[t]:
                vb = av[b]
                if vb != va and flow[b] > EPS:
                    heapq.heappush(pair[va][vb], (cost[a] - cost[b], key[a], a, b))
                    dirty.add((va, vb))
