/**
 * The CPU side of the episode contract ({@linkcode ReferenceVec}): `numEnvs` copies of a
 * single-env CPU reference stepped together in the GPU envs' buffer layouts, with auto-reset and
 * terminal observations, as `VecEnv` (envs/env.ts) describes and `shaders/envs/common/_episode.wgsl`
 * does on the GPU. Each env family supplies only its {@linkcode SingleEnvReference} hooks.
 *
 * ```ts ignore
 * const vec = new ReferenceVec(lbfReference(cfg, seed), { numEnvs: 3, obsType: Float32Array });
 * vec.step(actions);      // [numAgents, numEnvs] agent-major
 * vec.terminalObs;        // rows of the envs with terminated or truncated set
 * ```
 *
 * @module
 */

/** What one step of one env of a single-env reference returns. */
export interface ReferenceStepResult<S> {
  /**
   * State after the step: where the episode ended, its final state (the vec observes it and
   * starts the next episode with `next`), unless the reference resets by itself (`finalObs`).
   */
  readonly state: S;
  /** One reward per agent. */
  readonly rewards: readonly number[];
  /** The episode ended by the rules. */
  readonly terminated: boolean;
  /** The episode ended by the time limit. */
  readonly truncated: boolean;
  /**
   * Per agent, the final observation of an episode that ended, given only by references that
   * auto-reset by themselves: `state` is then already the new episode's first state.
   */
  readonly finalObs?: readonly ArrayLike<number>[];
}

/**
 * A single-env CPU reference as hooks for {@linkcode ReferenceVec}. `R` is its step result and
 * `X` the extra input `ReferenceVec.step` passes through (e.g. injected moves).
 */
export interface SingleEnvReference<
  S,
  R extends ReferenceStepResult<S> = ReferenceStepResult<S>,
  X = undefined,
> {
  readonly numAgents: number;
  /** Elements of one agent's observation. */
  readonly obsDim: number;
  /** Episode 0 of env `env`'s stream. */
  reset(env: number): S;
  /**
   * The first state of the episode that follows `ended` in env `env`'s stream (auto-reset);
   * absent where `step` resets by itself and gives `finalObs`.
   */
  next?(env: number, ended: S): S;
  /** One step of env `env` from `state` (not modified) with one action per agent. */
  step(env: number, state: S, actions: number[], extra: X): R;
  /** One observation per agent of `state`. */
  observe(state: S): readonly ArrayLike<number>[];
  /** Steps taken in the episode of `state`. */
  episodeStep(state: S): number;
  /** A copy of `state` that `setStates` keeps (default `structuredClone`). */
  clone?(state: S): S;
}

/** Options of {@linkcode ReferenceVec}. */
export interface ReferenceVecOptions<O extends Float32Array | Uint8Array> {
  numEnvs: number;
  /** Element type of `obs` and `terminalObs`, as the GPU env stores them. */
  obsType: { new (length: number): O };
}

/**
 * `numEnvs` copies of a single-env reference stepped with the GPU envs' episode contract: after
 * each step an env whose episode ended keeps its final observation in `terminalObs` and starts
 * the next episode of its stream, `obs` holds the new episode's first observation and
 * `episodeStep` its step count (0). Arrays are agent-major like the `VecEnv` buffers.
 */
export class ReferenceVec<
  S,
  O extends Float32Array | Uint8Array = Float32Array,
  R extends ReferenceStepResult<S> = ReferenceStepResult<S>,
  X = undefined,
> {
  readonly numEnvs: number;
  readonly numAgents: number;
  states: S[] = [];
  /** [numAgents, numEnvs, obsDim] of the current states. */
  readonly obs: O;
  /** As `obs`: final observations of the envs that ended at the last step (other rows keep theirs). */
  readonly terminalObs: O;
  /** [numAgents, numEnvs]. */
  readonly reward: Float32Array;
  /** [numEnvs] 0/1. */
  readonly terminated: Uint32Array;
  /** [numEnvs] 0/1. */
  readonly truncated: Uint32Array;
  /** [numEnvs]: steps of the current episodes. */
  readonly episodeStep: Uint32Array;
  /** Per env, what its last step returned (before any reset); null before the first step. */
  readonly last: (R | null)[];
  readonly #env: SingleEnvReference<S, R, X>;

  /**
   * Allocates the arrays and resets every env (episode 0).
   *
   * @param env The single-env reference's hooks.
   * @param options Number of envs and the observations' element type.
   */
  constructor(env: SingleEnvReference<S, R, X>, options: ReferenceVecOptions<O>) {
    const n = options.numEnvs, A = env.numAgents;
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot build reference vec: numEnvs is ${n}`);
    }
    this.#env = env;
    this.numEnvs = n;
    this.numAgents = A;
    this.obs = new options.obsType(A * n * env.obsDim);
    this.terminalObs = new options.obsType(A * n * env.obsDim);
    this.reward = new Float32Array(A * n);
    this.terminated = new Uint32Array(n);
    this.truncated = new Uint32Array(n);
    this.episodeStep = new Uint32Array(n);
    this.last = new Array<R | null>(n).fill(null);
    this.reset();
  }

  /** Episode 0 of every env's stream; reward and flags 0. */
  reset(): void {
    this.states = Array.from({ length: this.numEnvs }, (_, e) => this.#env.reset(e));
    this.reward.fill(0);
    this.terminated.fill(0);
    this.truncated.fill(0);
    this.last.fill(null);
    this.states.forEach((_, e) => this.#show(e));
  }

  /**
   * Replaces the states (copies, e.g. from golden files or random tests) and recomputes `obs` and
   * `episodeStep`; reward and flags keep their values.
   *
   * @param states One state per env.
   */
  setStates(states: readonly S[]): void {
    if (states.length !== this.numEnvs) {
      throw new RangeError(
        `Cannot set ${states.length} states: reference has ${this.numEnvs} envs`,
      );
    }
    const clone = this.#env.clone?.bind(this.#env) ?? ((s: S) => structuredClone(s));
    this.states = states.map(clone);
    this.states.forEach((_, e) => this.#show(e));
  }

  /**
   * Steps every env with agent-major `actions` [numAgents, numEnvs] and auto-resets the envs
   * whose episode ended.
   *
   * @param actions Agent-major actions.
   * @param extra Passed to every env's step as is.
   */
  step(actions: ArrayLike<number>, extra?: X): void {
    const n = this.numEnvs, A = this.numAgents;
    for (let e = 0; e < n; e++) {
      const acts = Array.from({ length: A }, (_, a) => actions[a * n + e]);
      const res = this.#env.step(e, this.states[e], acts, extra as X);
      this.last[e] = res;
      res.rewards.forEach((r, a) => (this.reward[a * n + e] = r));
      this.terminated[e] = res.terminated ? 1 : 0;
      this.truncated[e] = res.truncated ? 1 : 0;
      this.states[e] = res.state;
      if (res.terminated || res.truncated) {
        if (res.finalObs) {
          this.#put(this.terminalObs, e, res.finalObs);
        } else if (this.#env.next) {
          this.#put(this.terminalObs, e, this.#env.observe(res.state));
          this.states[e] = this.#env.next(e, res.state);
        } else {
          throw new TypeError(`Cannot reset env ${e}: the reference gave no finalObs and no next`);
        }
      }
      this.#show(e);
    }
  }

  /** Writes env e's observations and step count from its current state. */
  #show(e: number): void {
    const s = this.states[e];
    this.episodeStep[e] = this.#env.episodeStep(s);
    this.#put(this.obs, e, this.#env.observe(s));
  }

  #put(target: O, e: number, rows: readonly ArrayLike<number>[]): void {
    const dim = this.#env.obsDim;
    rows.forEach((o, a) => target.set(o, (a * this.numEnvs + e) * dim));
  }
}
