// A SecureKey server in its own process (`node src/main.ts`), for tests about processes:
// signals, several nodes on one data directory.
import { spawn, type ChildProcess } from 'node:child_process';

export type ChildServer = { child: ChildProcess; port: number; url: string; lines: string[]; exited: Promise<number | null>; stop: () => Promise<void> };

export const startChildServer = async (env: Record<string, string>): Promise<ChildServer> => {
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
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
          if (j.msg === 'SecureKey listening') resolve(j.port);
        } catch {
          // not a log line
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
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
};
