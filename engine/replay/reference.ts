/**
 * CPU reference for engine/replay/buffer.ts, written from the semantics rather than the GPU layout: each
 * ring slot holds a whole transition (o_t, a_t, r_t, o_{t+1}, done) as plain arrays, with no
 * next-slot links. A pending row (o_t known, step not yet taken) completes at the next insert.
 *
 * @module
 */

/** One stored transition. */
export interface Transition {
  obs: number[];
  nextObs: number[];
  action: number;
  reward: number;
  done: number;
}

/** Inputs of one insert, host arrays in the env's layout ([numAgents, numEnvs, ...]). */
export interface StepData {
  obs: ArrayLike<number>;
  terminalObs: ArrayLike<number>;
  actions: ArrayLike<number>;
  rewards: ArrayLike<number>;
  terminated: ArrayLike<number>;
  truncated: ArrayLike<number>;
}

interface Ring {
  slots: (Transition | null)[];
  leaves: number[];
  ptr: number;
  fill: number;
  /** Slots of pending rows, with their observation. */
  pending: { slot: number; obs: number[] }[];
  /** Slots completed by each insert so far, in row order (newest last). */
  completed: number[][];
}

/** The reference replay buffer. */
export class ReplayReference {
  readonly numAgents: number;
  readonly numEnvs: number;
  readonly capacity: number;
  readonly obsDim: number;
  readonly shared: boolean;
  readonly rings: Ring[];

  constructor(
    o: { numAgents: number; numEnvs: number; capacity: number; obsDim: number; shared?: boolean },
  ) {
    this.numAgents = o.numAgents;
    this.numEnvs = o.numEnvs;
    this.capacity = o.capacity;
    this.obsDim = o.obsDim;
    this.shared = o.shared ?? false;
    const n = this.shared ? 1 : o.numAgents;
    this.rings = Array.from({ length: n }, () => ({
      slots: new Array(o.capacity).fill(null),
      leaves: new Array(o.capacity).fill(0),
      ptr: 0,
      fill: 0,
      pending: [],
      completed: [],
    }));
  }

  #row(data: ArrayLike<number>, agent: number, env: number): number[] {
    const start = (agent * this.numEnvs + env) * this.obsDim;
    return Array.from({ length: this.obsDim }, (_, d) => data[start + d]);
  }

  #push(ring: Ring): number {
    const slot = ring.ptr;
    ring.ptr = (ring.ptr + 1) % this.capacity;
    ring.fill = Math.min(ring.fill + 1, this.capacity);
    return slot;
  }

  /**
   * Completes the pending rows with this step and starts new pending rows from `obs`. An episode
   * that ended (terminated or truncated) takes its next obs from `terminalObs`; done is
   * terminated, or truncated too when `truncationIsTerminal`.
   */
  insert(step: StepData, arrivalLeaf = 1, truncationIsTerminal = true): void {
    const ended = (e: number) => step.terminated[e] === 1 || step.truncated[e] === 1;
    this.rings.forEach((ring, r) => {
      const rows: [number, number][] = [];
      const agents = this.shared ? [...Array(this.numAgents).keys()] : [r];
      for (const a of agents) for (let e = 0; e < this.numEnvs; e++) rows.push([a, e]);
      const completed: number[] = [];
      ring.completed.push(completed);
      ring.pending.forEach((p, j) => {
        const [a, e] = rows[j];
        ring.slots[p.slot] = {
          obs: p.obs,
          nextObs: this.#row(ended(e) ? step.terminalObs : step.obs, a, e),
          action: step.actions[a * this.numEnvs + e],
          reward: step.rewards[a * this.numEnvs + e],
          done: step.terminated[e] === 1 || (truncationIsTerminal && step.truncated[e] === 1)
            ? 1
            : 0,
        };
        ring.leaves[p.slot] = arrivalLeaf;
        completed.push(p.slot);
      });
      ring.pending = rows.map(([a, e]) => {
        const slot = this.#push(ring);
        ring.slots[slot] = null;
        ring.leaves[slot] = 0;
        return { slot, obs: this.#row(step.obs, a, e) };
      });
    });
  }

  /**
   * Appends to each ring the rows the other agents selected among the rows completed by their
   * last `fragment` inserts (`indices [numAgents, fragment·numEnvs]` into those rows in insert
   * order, first `counts[a]` valid), senders in agent order.
   */
  crossInsert(
    indices: ArrayLike<number>,
    counts: ArrayLike<number>,
    arrivalLeaf = 1,
    fragment = 1,
  ): void {
    const n = fragment * this.numEnvs;
    const selected = this.rings.map((ring, a) =>
      Array.from({ length: counts[a] }, (_, k) => {
        const rows = ring.completed.slice(-fragment).flat();
        const t = ring.slots[rows[indices[a * n + k]]]!;
        return { ...t, obs: [...t.obs], nextObs: [...t.nextObs] };
      })
    );
    this.rings.forEach((ring, r) => {
      for (let a = 0; a < this.rings.length; a++) {
        if (a === r) continue;
        for (const t of selected[a]) {
          const slot = this.#push(ring);
          ring.slots[slot] = t;
          ring.leaves[slot] = arrivalLeaf;
        }
      }
    });
  }

  /** Slots of ring r that hold a complete transition. */
  validSlots(r: number): number[] {
    const ring = this.rings[r];
    const pending = new Set(ring.pending.map((p) => p.slot));
    return [...Array(ring.fill).keys()].filter((s) => !pending.has(s) && ring.slots[s] !== null);
  }
}
