// API call metrics are kept in fixed counters (src/api/call-metrics.ts), not in prom-client: their
// Prometheus text must read as prom-client's would for the same calls.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { createCallMetrics, DURATION_BUCKETS } from '../src/api/call-metrics.ts';

const CALLS: [string, string, string, number][] = [
  ['SmsOtpService.VerifySmsOtp', 'grpc', 'OK', 0.0004],
  ['SmsOtpService.VerifySmsOtp', 'grpc', 'OK', 0.003],
  ['SmsOtpService.VerifySmsOtp', 'rest', 'OTP_NOT_FOUND', 0.0025],
  ['TotpService.VerifyTotp', 'connect', 'OK', 7],
  ['SmsOtpService.VerifySmsOtp', 'grpc', 'RATE_LIMITED', 0.3],
];

test('call metrics: the same Prometheus text as prom-client gives for the same calls', async () => {
  const registry = new Registry();
  const requests = new Counter({ name: 'securekey_requests_total', help: 'API calls by method, transport and result code', labelNames: ['method', 'transport', 'code'], registers: [registry] });
  const duration = new Histogram({ name: 'securekey_request_duration_seconds', help: 'API call latency by method', labelNames: ['method', 'transport'], buckets: [...DURATION_BUCKETS], registers: [registry] });
  const calls = createCallMetrics();
  for (const [method, transport, code, seconds] of CALLS) {
    requests.inc({ method, transport, code });
    duration.observe({ method, transport }, seconds);
    calls.count(method, transport, code);
    calls.observe(method, transport, seconds);
  }
  calls.count('rest', 'rest', 'INVALID_ARGUMENT'); // refused before any method: counted, not timed
  requests.inc({ method: 'rest', transport: 'rest', code: 'INVALID_ARGUMENT' });
  // Line for line; only the order of series within a metric may differ.
  const lines = (text: string) => text.split('\n').sort();
  assert.deepEqual(lines(calls.text()), lines(await registry.metrics()));
});

test('call metrics: cumulative latency buckets per method and overall, and the errors', () => {
  const calls = createCallMetrics();
  for (const [method, transport, code, seconds] of CALLS) {
    calls.count(method, transport, code);
    calls.observe(method, transport, seconds);
  }
  const h = calls.histograms();
  assert.equal(h.get('*')!.get(Infinity), 5);
  assert.equal(h.get('*')!.get(0.001), 1);
  assert.equal(h.get('*')!.get(0.0025), 2, 'a bound is inclusive');
  assert.equal(h.get('SmsOtpService.VerifySmsOtp')!.get(0.5), 4);
  assert.equal(h.get('TotpService.VerifyTotp')!.get(5), 0);
  assert.equal(calls.errors(), 2);
});
