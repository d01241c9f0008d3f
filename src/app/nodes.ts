// The server processes that share a data directory: each writes a heartbeat row into the shared
// webhooks database (which every node of a data directory opens) and removes it when it stops,
// so the console's System page can list the nodes and tell a live one from one gone quiet.
import { hostname } from 'node:os';
import type { DatabaseSync } from 'node:sqlite';

export type NodeRow = { nodeId: string; host: string; pid: number; version: string; startedAt: number; seenAt: number; thisNode: boolean };

export type NodeRegistry = {
  /** Nodes seen within `withinMs` (default a minute), this one first. */
  list: (withinMs?: number) => NodeRow[];
  stop: () => void;
};

export const createNodeRegistry = (o: { db: DatabaseSync; nodeId: string; version: string; now: () => number; intervalMs?: number }): NodeRegistry => {
  o.db.exec(`CREATE TABLE IF NOT EXISTS nodes (
    instance TEXT PRIMARY KEY, node_id TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, version TEXT NOT NULL,
    started_at INTEGER NOT NULL, seen_at INTEGER NOT NULL)`);
  const host = hostname();
  const instance = `${host}:${process.pid}:${o.now()}`;
  const startedAt = o.now();
  const beat = () => {
    try {
      o.db
        .prepare(
          `INSERT INTO nodes (instance, node_id, host, pid, version, started_at, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (instance) DO UPDATE SET seen_at = excluded.seen_at`,
        )
        .run(instance, o.nodeId, host, process.pid, o.version, startedAt, o.now());
    } catch {
      // a busy shared database: the next beat tries again
    }
  };
  beat();
  const timer = setInterval(beat, o.intervalMs ?? 5000);
  timer.unref();
  return {
    list: (withinMs = 60_000) => {
      beat();
      const rows = o.db.prepare('SELECT * FROM nodes WHERE seen_at >= ? ORDER BY started_at').all(o.now() - withinMs) as {
        instance: string;
        node_id: string;
        host: string;
        pid: number;
        version: string;
        started_at: number;
        seen_at: number;
      }[];
      return rows
        .map((r) => ({ nodeId: r.node_id, host: r.host, pid: r.pid, version: r.version, startedAt: r.started_at, seenAt: r.seen_at, thisNode: r.instance === instance }))
        .sort((a, b) => Number(b.thisNode) - Number(a.thisNode));
    },
    stop: () => {
      clearInterval(timer);
      try {
        o.db.prepare('DELETE FROM nodes WHERE instance = ?').run(instance);
      } catch {
        // the row ages out of the list within a minute
      }
    },
  };
};
