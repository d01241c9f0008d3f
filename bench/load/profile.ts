// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per file, the table
// an optimiser starts from. `node bench/load/profile.ts FILE.cpuprofile [top]` prints it.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type CpuProfile = { nodes: { id: number; callFrame: CallFrame }[]; samples: number[]; timeDeltas: number[] };

export type ProfileLine = { name: string; where: string; selfMs: number; percent: number };
export type ProfileSummary = { totalMs: number; functions: ProfileLine[]; files: ProfileLine[] };

const where = (f: CallFrame) => {
  if (!f.url) return '';
  const path = f.url.startsWith('file://') ? relative(process.cwd(), new URL(f.url).pathname) : f.url;
  return path;
};

export const summariseProfile = (file: string, top = 10): ProfileSummary => {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byFile = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const f = frames.get(id)!;
    totalUs += us;
    const w = where(f);
    const at = w ? `${w}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName}|${at}`;
    const entry = byFunction.get(key) ?? { name: f.functionName || '(anonymous)', where: at, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const fileKey = w || f.functionName;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  });
  const line = (name: string, w: string, us: number): ProfileLine => ({ name, where: w, selfMs: Math.round(us / 1000), percent: Number(((100 * us) / totalUs).toFixed(1)) });
  return {
    totalMs: Math.round(totalUs / 1000),
    functions: [...byFunction.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => line(e.name, e.where, e.us)),
    files: [...byFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => line(name, '', us)),
  };
};

export const formatProfile = (s: ProfileSummary) =>
  [
    `self time by function (of ${s.totalMs} ms sampled):`,
    ...s.functions.map((f) => `  ${f.percent.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(6)} ms  ${f.name}  ${f.where}`),
    'self time by file:',
    ...s.files.map((f) => `  ${f.percent.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(6)} ms  ${f.name}`),
  ].join('\n');

if (import.meta.main) console.log(formatProfile(summariseProfile(process.argv[2]!, Number(process.argv[3] ?? 10))));
