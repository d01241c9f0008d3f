// HTTP load from autocannon (npm), used when wrk is not installed: a load process of its own
// (`node bench/load/drive-autocannon.ts WORKLOAD_JSON`), one thread, so its own ceiling is lower
// than wrk's: compare ratios only within one tool.
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { bodiesOf, loadProcessArgs, runLoadProcess, type LoadOptions, type LoadResult, type Workload } from './drivers.ts';

export const driveAutocannon = (w: Workload, o: LoadOptions) => runLoadProcess(fileURLToPath(import.meta.url), w, o);

if (import.meta.main) {
  const { workload: w, options: o } = loadProcessArgs();
  const bodyAt = bodiesOf(w);
  let next = 0;
  let unexpected = 0;
  let sample = '';
  const result = await autocannon({
    url: w.target,
    connections: o.connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.durationS }),
    timeout: 5,
    ...(o.rate ? { overallRate: Math.max(1, Math.round(o.rate)) } : {}),
    requests: [
      {
        method: 'POST',
        path: w.path,
        headers: { 'content-type': 'application/json', ...w.headers },
        setupRequest: (req) => ({ ...req, body: bodyAt(next++) }),
        onResponse: (status, body) => {
          const ok = status >= 200 && status < 300;
          const expected = body.includes(w.expect);
          if (ok && !expected) unexpected++;
          if ((!ok || !expected) && !sample) sample = `${status} ${body.slice(0, 300)}`;
        },
      },
    ],
  });
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count ?? 0]));
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
  const out: LoadResult = {
    tool: 'autocannon',
    requests,
    seconds: result.duration,
    rps: requests / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    statuses,
    socketErrors: result.errors,
    unexpected,
    sample,
  };
  console.log(JSON.stringify(out));
}
