// Retention: a tenant's retentionDays shreds the personal data of its verification events older
// than that, keeping the events themselves (type, time, channel, outcome, country: the facts
// statistics read). Verification events are sealed with the tenant's key of their UTC day as well
// as the user's (src/privacy/personal-data.ts), so destroying the day keys of the days past the
// limit shreds exactly them; enrollments (devices, passkeys, TOTP) are sealed with the user's key
// alone and stay until they are removed or the user is erased. A day's key goes once the whole day
// is past the limit: personal data lives retentionDays, and at most one day more.
import { integerSetting, type TenantSettings } from '../domain/tenant/index.ts';
import { dayOf } from '../privacy/personal-data.ts';
import type { Vault } from '../privacy/vault.ts';

const DAY_MS = 86_400_000;

export type RetentionRun = { tenants: number; keysDestroyed: number };

/** The first UTC day whose key is kept, for a retention of `days` at `now`. */
export const firstKeptDay = (now: number, days: number) => dayOf(now - days * DAY_MS);

/** One pass over the tenants (settings from the tenants read model). */
export const runRetention = (deps: { vault: Pick<Vault, 'destroyDaysBefore'>; tenants: () => { tenantId: string; settings: TenantSettings }[]; now: () => number }): RetentionRun => {
  const run: RetentionRun = { tenants: 0, keysDestroyed: 0 };
  const now = deps.now();
  for (const t of deps.tenants()) {
    const days = integerSetting(t.settings, 'retentionDays');
    if (days === 0) continue;
    run.tenants++;
    run.keysDestroyed += deps.vault.destroyDaysBefore(t.tenantId, firstKeptDay(now, days));
  }
  return run;
};

export type RetentionMetrics = { runs: { inc: () => void }; keysDestroyed: { inc: (n: number) => void }; lastRun: { set: (v: number) => void }; failures: { inc: () => void } };

/** The scheduled job: a run every `everyMs` of real time (the decision uses the injected clock). */
export const startRetention = (o: {
  run: () => RetentionRun;
  everyMs: number;
  now: () => number;
  metrics: RetentionMetrics;
  log: { info: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
}) => {
  const tick = () => {
    try {
      const r = o.run();
      o.metrics.runs.inc();
      o.metrics.lastRun.set(Math.floor(o.now() / 1000));
      if (r.keysDestroyed) {
        o.metrics.keysDestroyed.inc(r.keysDestroyed);
        o.log.info(r, 'retention: shredded the personal data of verification events past their tenant\'s retentionDays');
      }
    } catch (err) {
      o.metrics.failures.inc();
      o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'retention run failed; it runs again at the next interval');
    }
  };
  tick();
  const timer = setInterval(tick, o.everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
};
