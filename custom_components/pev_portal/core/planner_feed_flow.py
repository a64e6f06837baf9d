"""Exact solvers for the power-feed planner (see :mod:`.planner_feed`).

Pure Python (standard library only), no Home Assistant imports.

* :class:`NetworkSimplex`: a primal network simplex for min-cost flow with lower and upper
  bounds (a strongly feasible spanning tree, block-search pricing, big-M artificial arcs to a
  root). Costs can be changed and the flow re-optimised from the last tree (``resolve``).
* :func:`solve_with_side_constraints`: min-cost flow plus a few ``<=`` side constraints (the
  daily cycle budgets when several vehicles feed through the same premise) by Dantzig-Wolfe
  decomposition: the master LP (one row per side constraint plus the convexity row, solved
  by :func:`solve_master`) prices the side constraints, the network simplex generates the
  extreme flows. Exact: it stops when no flow has a negative reduced cost; the result is a
  convex combination of extreme flows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

_INF: Final = math.inf
_TOL: Final = 1e-10  # reduced costs and residual capacities below this are zero
_FEAS_TOL: Final = 1e-7  # artificial flow above this: infeasible


class FlowError(RuntimeError):
    """The network has no feasible flow, or a solver did not converge."""


@dataclass(frozen=True, slots=True)
class Arc:
    """An arc ``tail -> head`` carrying between ``low`` and ``cap`` at ``cost`` per unit."""

    tail: int
    head: int
    low: float
    cap: float
    cost: float


class NetworkSimplex:
    """Primal network simplex (min-cost flow, lower/upper bounds, node supplies).

    ``supplies[i] > 0``: node ``i`` supplies that much, ``< 0``: it demands it; they sum to
    zero. Arcs may have ``cap == inf``. Flows are floats; a residual below ``1e-10`` is zero.
    """

    def __init__(self, n: int, supplies: Sequence[float], arcs: Sequence[Arc]) -> None:
        if len(supplies) != n:
            raise ValueError("one supply per node")
        m = len(arcs)
        self.n = n
        self.m = m
        root = n
        self._root = root
        tail = [a.tail for a in arcs]
        head = [a.head for a in arcs]
        low = [a.low for a in arcs]
        cap = [a.cap - a.low for a in arcs]
        if any(c < -_FEAS_TOL for c in cap):
            raise FlowError("an arc's lower bound exceeds its capacity")
        cap = [max(0.0, c) for c in cap]
        b = list(supplies)
        for a in range(m):  # shift the lower bounds out
            if low[a]:
                b[tail[a]] -= low[a]
                b[head[a]] += low[a]
        self._low = low
        self._real_cost = [a.cost for a in arcs]
        max_cost = max((abs(c) for c in self._real_cost), default=0.0)
        big_m = (n + 1) * (max_cost + 1.0)
        # Artificial arcs, one per node, to or from the root.
        self._tail = tail + [0] * n
        self._head = head + [0] * n
        self._cap = cap + [_INF] * n
        self._cost = [*self._real_cost, *([big_m] * n)]
        self._flow = [0.0] * (m + n)
        self._state = [1] * m + [0] * n  # 1: at lower, -1: at upper, 0: in the tree
        self._parent = [root] * n + [-1]
        self._pred = [-1] * (n + 1)
        self._up = [True] * (n + 1)  # pred arc goes node -> parent
        self._pot = [0.0] * (n + 1)
        self._children: list[set[int]] = [set() for _ in range(n)] + [set(range(n))]
        self._depth = [1] * n + [0]
        for i in range(n):
            a = m + i
            self._pred[i] = a
            if b[i] >= 0:
                self._tail[a], self._head[a] = i, root
                self._flow[a] = b[i]
                self._up[i] = True
                self._pot[i] = -big_m
            else:
                self._tail[a], self._head[a] = root, i
                self._flow[a] = -b[i]
                self._up[i] = False
                self._pot[i] = big_m
        self._block = max(10, int(math.sqrt(m + n)))
        self._next = 0
        self.pivots = 0

    # ----------------------------------------------------------------- public

    def solve(self) -> list[float]:
        """Optimise; return the flow of every arc (lower bounds included)."""
        while True:
            entering = self._find_entering()
            if entering < 0:
                break
            self._pivot(entering)
        m = self.m
        if any(self._flow[m + i] > _FEAS_TOL for i in range(self.n)):
            raise FlowError("no feasible flow")
        return [self._low[a] + self._flow[a] for a in range(m)]

    def open_arcs(self, caps: dict[int, float]) -> None:
        """Raise the capacity of arcs that carry nothing (their lower bound must be 0)."""
        for a, cap in caps.items():
            if self._low[a] or self._flow[a] > _TOL or cap < 0:
                raise ValueError(f"arc {a} carries flow or has a lower bound")
            self._cap[a] = cap
            if self._state[a] == -1:
                self._state[a] = 1
            self._flow[a] = 0.0

    def resolve(self, costs: Sequence[float]) -> list[float]:
        """New costs for the real arcs; re-optimise from the current tree."""
        if len(costs) != self.m:
            raise ValueError("one cost per arc")
        self._cost[: self.m] = list(costs)
        self._recompute_potentials()
        return self.solve()

    # ----------------------------------------------------------------- internals

    def _recompute_potentials(self) -> None:
        stack = [self._root]
        pot, cost, up, pred = self._pot, self._cost, self._up, self._pred
        while stack:
            u = stack.pop()
            for c in self._children[u]:
                a = pred[c]
                # reduced cost of a tree arc is zero: cost + pot[tail] - pot[head] = 0
                pot[c] = pot[u] - cost[a] if up[c] else pot[u] + cost[a]
                stack.append(c)

    def _find_entering(self) -> int:
        total = self.m + self.n
        tail, head, cost, state, pot = self._tail, self._head, self._cost, self._state, self._pot
        best, best_v = -1, -_TOL
        cnt = self._block
        a = self._next
        for _ in range(total):
            s = state[a]
            if s:
                v = s * (cost[a] + pot[tail[a]] - pot[head[a]])
                if v < best_v:
                    best_v, best = v, a
            cnt -= 1
            a += 1
            if a == total:
                a = 0
            if cnt == 0:
                if best >= 0:
                    self._next = a
                    return best
                cnt = self._block
        self._next = a
        return best

    def _pivot(self, entering: int) -> None:
        self.pivots += 1
        tail, head, cap, flow = self._tail, self._head, self._cap, self._flow
        parent, pred, up, depth = self._parent, self._pred, self._up, self._depth
        s = self._state[entering]
        if s == 1:
            first, second = tail[entering], head[entering]
        else:
            first, second = head[entering], tail[entering]
        # The join: the deepest common ancestor.
        u, v = first, second
        while u != v:
            if depth[u] > depth[v]:
                u = parent[u]
            elif depth[v] > depth[u]:
                v = parent[v]
            else:
                u, v = parent[u], parent[v]
        join = u
        # The leaving arc (strongly feasible: the last blocking arc from the join).
        delta = cap[entering]
        u_out = -1
        side = 0
        u = first
        while u != join:
            a = pred[u]
            d = flow[a] if up[u] else cap[a] - flow[a]
            if d < delta:
                delta, u_out, side = d, u, 1
            u = parent[u]
        u = second
        while u != join:
            a = pred[u]
            d = cap[a] - flow[a] if up[u] else flow[a]
            if d <= delta:
                delta, u_out, side = d, u, 2
            u = parent[u]
        if delta == _INF:
            raise FlowError("unbounded: a negative cycle of infinite capacity")
        if delta > 0:
            val = s * delta
            flow[entering] += val
            u = tail[entering]
            while u != join:
                a = pred[u]
                flow[a] += -val if up[u] else val
                u = parent[u]
            u = head[entering]
            while u != join:
                a = pred[u]
                flow[a] += val if up[u] else -val
                u = parent[u]
        if side == 0:  # the entering arc itself blocks: it only changes bounds
            self._state[entering] = -s
            flow[entering] = cap[entering] if s == 1 else 0.0
            return
        leaving = pred[u_out]
        # It blocked at its lower bound when the cycle emptied it, else at its upper bound.
        at_lower = up[u_out] if side == 1 else not up[u_out]
        flow[leaving] = 0.0 if at_lower else cap[leaving]
        self._state[leaving] = 1 if at_lower else -1
        self._state[entering] = 0
        # Re-hang the subtree of u_out below the entering arc.
        u_in = first if side == 1 else second
        v_in = second if side == 1 else first
        children = self._children
        new_parent, new_pred, new_up = v_in, entering, tail[entering] == u_in
        x = u_in
        while True:
            old_parent, old_pred, old_up = parent[x], pred[x], up[x]
            children[old_parent].discard(x)
            parent[x], pred[x], up[x] = new_parent, new_pred, new_up
            children[new_parent].add(x)
            if x == u_out:
                break
            new_parent, new_pred, new_up = x, old_pred, not old_up
            x = old_parent
        # Depths and potentials of the moved subtree.
        pot, cost = self._pot, self._cost
        stack = [u_in]
        while stack:
            x = stack.pop()
            p = parent[x]
            depth[x] = depth[p] + 1
            a = pred[x]
            pot[x] = pot[p] - cost[a] if up[x] else pot[p] + cost[a]
            stack.extend(children[x])


def flow_cost(flows: Sequence[float], costs: Sequence[float]) -> float:
    """``sum(flow * cost)`` over the arcs."""
    return math.fsum(f * c for f, c in zip(flows, costs, strict=True))


# --------------------------------------------------------------------------- master LP


def solve_master(
    costs: Sequence[float], usage: Sequence[Sequence[float]], budgets: Sequence[float]
) -> tuple[list[float], list[float], float]:
    """The Dantzig-Wolfe master: ``min c.mu`` s.t. ``usage[k].mu <= budgets[k]``,
    ``sum mu = 1``, ``mu >= 0``.

    Column 0 must use no budget (``usage[k][0] == 0``): it is the starting basis with the
    slacks. Returns ``(mu, y, sigma)``: the weights, the duals of the budget rows (``<= 0``)
    and the dual of the convexity row. A dense tableau simplex, Bland's rule (it is tiny).
    """
    k = len(budgets)
    j = len(costs)
    # Columns: the j weights, then k slacks. Rows: k budgets, then convexity.
    rows: list[list[float]] = []
    for r in range(k):
        rows.append([*usage[r], *(1.0 if s == r else 0.0 for s in range(k)), budgets[r]])
    rows.append([*([1.0] * j), *([0.0] * k), 1.0])
    cost_row = [*costs, *([0.0] * k)]
    basis = [j + r for r in range(k)] + [0]
    width = j + k
    for _ in range(50 * (width + k + 1) + 100):
        # Reduced costs: c - c_B B^-1 A (the tableau rows are B^-1 A).
        reduced = list(cost_row)
        for r, bcol in enumerate(basis):
            cb = cost_row[bcol]
            if cb:
                row = rows[r]
                for col in range(width):
                    reduced[col] -= cb * row[col]
        entering = next((c for c in range(width) if reduced[c] < -1e-12), -1)
        if entering < 0:
            break
        leave, ratio = -1, _INF
        for r in range(k + 1):
            coef = rows[r][entering]
            if coef > 1e-12:
                q = rows[r][width] / coef
                if q < ratio - 1e-15 or (q <= ratio + 1e-15 and basis[r] < basis[leave]):
                    leave, ratio = r, q
        if leave < 0:  # pragma: no cover - bounded by the convexity row
            raise FlowError("master LP unbounded")
        pivot_row = rows[leave]
        piv = pivot_row[entering]
        for col in range(width + 1):
            pivot_row[col] /= piv
        for r in range(k + 1):
            if r != leave:
                f = rows[r][entering]
                if f:
                    row = rows[r]
                    for col in range(width + 1):
                        row[col] -= f * pivot_row[col]
        basis[leave] = entering
    else:  # pragma: no cover - Bland's rule terminates
        raise FlowError("master LP did not converge")
    mu = [0.0] * j
    for r, bcol in enumerate(basis):
        if bcol < j:
            mu[bcol] = max(0.0, rows[r][width])
    # Duals: y_B = c_B B^-1; B^-1 sits in the columns of the starting basis (slacks, col 0).
    start = [j + r for r in range(k)] + [0]
    # It is the identity (column 0 uses no budget), so those tableau columns hold B^-1.
    c_basis = [cost_row[b] for b in basis]
    duals = [sum(c_basis[r] * rows[r][col] for r in range(k + 1)) for col in start]
    y = duals[:k]
    sigma = duals[k]
    return mu, y, sigma


@dataclass(frozen=True, slots=True)
class SideResult:
    """A flow under side constraints, how it was found, and how far from optimal at most.

    ``gap``: the master's cost minus the best Lagrangian bound (0 within ``1e-9`` relative:
    optimal; positive only when ``max_rounds`` stopped the rounds).
    """

    flows: list[float]
    rounds: int
    pivots: int
    gap: float


def solve_with_side_constraints(
    n: int,
    supplies: Sequence[float],
    arcs: Sequence[Arc],
    side: Sequence[dict[int, float]],
    budgets: Sequence[float],
    start: Sequence[Arc],
    *,
    max_rounds: int = 500,
    smoothing: float = 0.7,
) -> SideResult:
    """Min-cost flow with ``sum_a side[k][a] * flow[a] <= budgets[k]`` (``side >= 0``).

    The network's own optimum first: when it keeps the side constraints it is the answer
    (no round). Otherwise ``start``, the same network with every side-constrained arc closed
    (capacity 0), gives a flow that uses no budget and starts the master with the network's
    optimum; the first solver, warm, prices the rounds. The duals are smoothed toward the
    best Lagrangian bound's (Wentges), which cuts the rounds several times; a round that
    finds no column at the smoothed duals prices again at the master's own. The result is
    a convex combination of extreme flows; it stops when the master's cost meets the best
    bound. After ``max_rounds`` it returns the master's (feasible) flow and the gap.
    """
    base_costs = [a.cost for a in arcs]
    solver = NetworkSimplex(n, supplies, arcs)
    best = solver.solve()

    def used(flows: list[float]) -> list[float]:
        return [math.fsum(g * flows[a] for a, g in coeffs.items()) for coeffs in side]

    best_usage = used(best)
    if all(u <= b + _FEAS_TOL for u, b in zip(best_usage, budgets, strict=True)):
        return SideResult(best, 0, solver.pivots, 0.0)
    closed = NetworkSimplex(n, supplies, start)
    first = closed.solve()
    columns = [first, best]
    col_costs = [flow_cost(first, base_costs), flow_cost(best, base_costs)]
    usage: list[list[float]] = [[0.0, u] for u in best_usage]
    k_rows = len(side)

    def priced_at(y: list[float]) -> list[float]:
        priced = list(base_costs)
        for k, coeffs in enumerate(side):
            if y[k]:
                for a, g in coeffs.items():
                    priced[a] -= y[k] * g
        return priced

    center: list[float] | None = None
    best_bound = -_INF
    mu: list[float] = [1.0]
    upper = col_costs[0]
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        mu, y, sigma = solve_master(col_costs, usage, budgets)
        upper = math.fsum(c * w for c, w in zip(col_costs, mu, strict=True))
        tol = 1e-9 * (1.0 + abs(upper))
        alpha = smoothing if center is not None else 0.0
        added = False
        while True:
            y_sep = (
                y
                if center is None or alpha == 0
                else [alpha * c + (1 - alpha) * m for c, m in zip(center, y, strict=True)]
            )
            priced = priced_at(y_sep)
            flows = solver.resolve(priced)
            bound = flow_cost(flows, priced) + math.fsum(
                y_sep[k] * budgets[k] for k in range(k_rows)
            )
            if bound > best_bound:
                best_bound, center = bound, list(y_sep)
            u = used(flows)
            cost = flow_cost(flows, base_costs)
            reduced = cost - math.fsum(y[k] * u[k] for k in range(k_rows)) - sigma
            if reduced < -tol:
                columns.append(flows)
                col_costs.append(cost)
                for k in range(k_rows):
                    usage[k].append(u[k])
                added = True
                break
            if alpha == 0:
                break
            alpha = 0.0  # mispricing: price at the master's duals
        if not added or upper - best_bound <= tol:
            best_bound = max(best_bound, upper) if not added else best_bound
            break
    result = [0.0] * len(arcs)
    for weight, col in zip(mu, columns, strict=False):
        if weight > 0:
            for a, f in enumerate(col):
                result[a] += weight * f
    return SideResult(result, rounds, solver.pivots + closed.pivots, max(0.0, upper - best_bound))
