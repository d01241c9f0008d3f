// A SecureKey server in its own process, for tests about processes: signals, several nodes on
// one data directory, the container's and `npm start`'s exact start commands.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export type ChildServer = { child: ChildProcess; port: number; url: string; lines: string[]; stderr: () => string; exited: Promise<number | null>; stop: () => Promise<void> };

/** The admin token a child server gets unless the test sets its own. */
export const CHILD_ADMIN_TOKEN = 'child-admin-token-0123456789';

/** Starts `command` (default: `node src/main.ts` on this Node) and resolves once it logs that it listens. */
export const startChildServer = async (env: Record<string, string>, command: string[] = [process.execPath, 'src/main.ts']): Promise<ChildServer> => {
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SECUREKEY_WEBHOOK_ALLOW_PRIVATE: 'true', SECUREKEY_ADMIN_TOKEN: CHILD_ADMIN_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  let buf = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        try {
          const j = JSON.parse(line);
          if (typeof j.msg === 'string' && j.msg.startsWith('SecureKey listening')) resolve(j.port);
        } catch {
          // not a log line (e.g. npm's banner)
        }
      }
    });
    void exited.then((code) => reject(new Error(`server exited early with ${code}: ${stderr}`)));
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    stderr: () => stderr,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
};

/** The JSON log lines (other output, e.g. npm's banner, left out). */
export const logsOf = (lines: string[]): Record<string, unknown>[] =>
  lines.flatMap((l) => {
    try {
      const j: unknown = JSON.parse(l);
      return j && typeof j === 'object' ? [j as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });

export const messagesOf = (lines: string[]): string[] => logsOf(lines).map((j) => String(j.msg));

/** Linux: the ids of the processes whose parent is `pid`. */
export const childPidsOf = (pid: number): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);

/** Linux: every process below `pid` (children, grandchildren, ...). */
export const descendantsOf = (pid: number): number[] => childPidsOf(pid).flatMap((c) => [c, ...descendantsOf(c)]);

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
