// Where each read model of a runner stands — its checkpoint and, when stopped at an error, why —
// and the waits on it (read-your-writes). Shared by the runner (runtime.ts), which moves the
// checkpoints, and by its proxy on the server's thread when the runner works on its own thread
// (thread/index.ts), which mirrors them from the runner's messages.

/** A projection stopped at the event its evolve threw on: the others go on, and it tries that
 * event again after a backoff delay (it never skips it). */
export type ProjectionFailure = {
  /** The event's global position. */
  position: number;
  error: unknown;
  /** Failed tries at this event so far. */
  attempts: number;
  /** Epoch ms of the first failure at this event. */
  since: number;
  /** Epoch ms of the next try. */
  retryAt: number;
};

/** waitFor: a projection it waits for is stopped at an error before the position. */
export class ProjectionStoppedError extends Error {
  readonly projection: string;
  constructor(projection: string, f: Pick<ProjectionFailure, 'position' | 'error'>) {
    super(`projection ${projection} stopped at position ${f.position}: ${f.error instanceof Error ? f.error.message : String(f.error)}`, { cause: f.error });
    this.name = 'ProjectionStoppedError';
    this.projection = projection;
  }
}

/** waitFor: the position was not reached in time. */
export class ProjectionTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionTimeoutError';
  }
}

export type ProjectionStatus = { checkpoint: number; failure?: ProjectionFailure };

/** What /readyz and /metrics show of a read model: its lag and, when stopped, why and until when. */
export type ProjectionHealth =
  | { status: 'ok'; lag: number }
  | { status: 'failing'; lag: number; failedAt: number; error: string; attempts: number; since: string; retryInMs: number };

export type Progress = {
  readonly names: readonly string[];
  /** The last position each read model applied. */
  readonly checkpoint: Record<string, number>;
  /** The read models stopped at an error. */
  readonly failed: Map<string, ProjectionFailure>;
  /** After the checkpoints or failures moved: the waits check again. */
  wake: () => void;
  /** Resolves when the named read models reach `position`; rejects when one of them is stopped at
   * an error before it (unless `settle`: then a stopped one counts as arrived) or after timeoutMs. */
  reach: (position: number, only: readonly string[], timeoutMs: number, settle: boolean) => Promise<void>;
  status: () => Record<string, ProjectionStatus>;
  health: (head: number) => Record<string, ProjectionHealth>;
};

export const createProgress = (names: readonly string[]): Progress => {
  const checkpoint: Record<string, number> = {};
  const failed = new Map<string, ProjectionFailure>();
  let waiters: (() => void)[] = [];
  const wake = () => {
    const ws = waiters;
    waiters = [];
    for (const w of ws) w();
  };
  const reach: Progress['reach'] = (position, only, timeoutMs, settle) =>
    new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        for (const n of only) {
          if (checkpoint[n] >= position) continue;
          const f = failed.get(n);
          if (f && settle) continue;
          if (f) {
            clearTimeout(timer);
            return reject(new ProjectionStoppedError(n, f));
          }
          waiters.push(check);
          return;
        }
        clearTimeout(timer);
        resolve();
      };
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          reject(new ProjectionTimeoutError(`projections did not reach position ${position} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      check();
    });
  return {
    names,
    checkpoint,
    failed,
    wake,
    reach,
    status: () =>
      Object.fromEntries(
        names.map((n) => {
          const f = failed.get(n);
          return [n, f ? { checkpoint: checkpoint[n], failure: { position: f.position, error: f.error, attempts: f.attempts, since: f.since, retryAt: f.retryAt } } : { checkpoint: checkpoint[n] }];
        }),
      ),
    health: (head) => {
      const now = Date.now();
      return Object.fromEntries(
        names.map((n): [string, ProjectionHealth] => {
          const lag = Math.max(0, head - (checkpoint[n] ?? 0));
          const f = failed.get(n);
          if (!f) return [n, { status: 'ok', lag }];
          const error = (f.error instanceof Error ? f.error.message : String(f.error)).slice(0, 200);
          return [n, { status: 'failing', lag, failedAt: f.position, error, attempts: f.attempts, since: new Date(f.since).toISOString(), retryInMs: Math.max(0, f.retryAt - now) }];
        }),
      );
    },
  };
};

/** What a runner answers about its read models (the runner itself and its proxy on the server's
 * thread answer alike): waits by name, checkpoints, status, health and lag against the log's head. */
export const progressQueries = (progress: Progress, headPosition: () => Promise<number>) => {
  const lag = async (): Promise<Record<string, number>> => {
    const head = await headPosition();
    return Object.fromEntries(progress.names.map((n) => [n, Math.max(0, head - (progress.checkpoint[n] ?? 0))]));
  };
  return {
    /** Rejects at once for a name this runner does not run. */
    waitFor: (position: number, timeoutMs = 5000, only?: readonly string[]): Promise<void> => {
      const unknown = (only ?? []).filter((n) => !progress.names.includes(n));
      if (unknown.length) return Promise.reject(new Error(`unknown projections: ${unknown.join(', ')}`));
      return progress.reach(position, only ?? progress.names, timeoutMs, false);
    },
    checkpoints: () => ({ ...progress.checkpoint }),
    status: progress.status,
    names: () => [...progress.names],
    health: async () => progress.health(await headPosition()),
    lag,
    caughtUp: async () => Object.values(await lag()).every((l) => l === 0),
  };
};
