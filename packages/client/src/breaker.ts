// A circuit breaker per server: after `failureThreshold` consecutive MCP failures the client
// stops spawning that server for `cooldownMs` (calls go direct), then lets one trial through.
export type BreakerState = "closed" | "open" | "half_open";

export interface BreakerOptions {
  failureThreshold?: number;
  cooldownMs?: number;
  /** The clock (tests move it instead of sleeping). */
  now?: () => number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;
  lastFailure: string | undefined;

  constructor(opts: BreakerOptions = {}) {
    this.failureThreshold = opts.failureThreshold ?? 3;
    this.cooldownMs = opts.cooldownMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.openedAt === undefined) return "closed";
    return this.now() - this.openedAt >= this.cooldownMs ? "half_open" : "open";
  }

  /** When an open breaker lets the next trial through (ms since epoch), if open. */
  get retryAt(): number | undefined {
    return this.openedAt === undefined ? undefined : this.openedAt + this.cooldownMs;
  }

  /** May this call try MCP? In half-open state only one trial runs at a time. */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === "closed") return true;
    if (s === "open" || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
    this.lastFailure = undefined;
  }

  failure(why: string): void {
    this.lastFailure = why;
    this.failures += 1;
    const wasTrial = this.trialInFlight;
    this.trialInFlight = false;
    // A failed trial re-opens at once; a closed breaker opens at the threshold.
    if (wasTrial || this.failures >= this.failureThreshold) this.openedAt = this.now();
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
