// The probe scheduler: one Durable Object whose alarm runs the health monitor's probe rounds at
// the configured check_interval_ms (10 s at the shortest), so `check_interval_ms` means what it says;
// crons cannot fire more often than once a minute. The engine decides whether a round is due and
// when the next one is (health_probe_plan's next_round_ms); this object only keeps the alarm.
// The collect-metrics cron stays as the fallback: it restarts an alarm that stopped, and runs
// the round itself when the object cannot be reached.
import { DurableObject } from 'cloudflare:workers';
import { getRuntime } from './runtime.js';
import { runProbeRound } from './monitor.js';

export class ProbeScheduler extends DurableObject {
  async alarm() {
    const rt = await getRuntime(this.env);
    const now = Date.now();
    let result;
    try {
      result = await runProbeRound(rt, { trigger: 'scheduled', nowMs: now });
    } catch (e) {
      // Cloudflare retries a failed alarm with backoff; the cron restarts it if it gives up.
      console.error(`r2watch: probe round from the alarm failed: ${e.message}`);
      throw e;
    }
    if (result.next_round_ms !== null && result.next_round_ms !== undefined) {
      await this.ctx.storage.setAlarm(Math.max(result.next_round_ms, now + 1));
    }
    await this.ctx.storage.put('last_alarm', { at_ms: now, ran: result.ran, reason: result.reason ?? null });
  }

  /**
   * Makes sure an alarm is set. `now: true` sets it to fire at once (monitoring started, or its
   * interval changed: the engine then says when the next round is due). Answers whether it had
   * stopped.
   */
  async ensure({ now = false } = {}) {
    const at = await this.ctx.storage.getAlarm();
    if (at !== null && !now) return { alarm_ms: at, restarted: false };
    const next = Date.now();
    await this.ctx.storage.setAlarm(next);
    return { alarm_ms: next, restarted: at === null };
  }

  /** Monitoring stopped: no alarm until it starts again. */
  async stop() {
    await this.ctx.storage.deleteAlarm();
    return { alarm_ms: null };
  }

  async status() {
    return { alarm_ms: await this.ctx.storage.getAlarm(), last_alarm: (await this.ctx.storage.get('last_alarm')) ?? null };
  }
}

/** The one scheduler object, or null where the binding is absent. */
export function probeScheduler(env) {
  if (!env.PROBES) return null;
  return env.PROBES.get(env.PROBES.idFromName('probes'));
}
