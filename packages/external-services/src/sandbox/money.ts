// Money in the HTTP emulators: decimal amounts as fixed-point bigint with 4 decimals (as AT and
// Twilio write them), so that sums and balances carry no float drift.
export const SCALE = 4;
const ONE = 10n ** BigInt(SCALE);

/** "12.5" → 125000n; more than 4 decimals is refused unless the extra digits are zeros. */
export function toUnits(amount: string): bigint {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) throw new Error(`not a decimal amount: ${amount}`);
  const frac = (m[3] ?? "").padEnd(SCALE, "0");
  if (/[1-9]/.test(frac.slice(SCALE))) throw new Error(`more than ${SCALE} decimals: ${amount}`);
  const v = BigInt(m[2]!) * ONE + BigInt(frac.slice(0, SCALE));
  return m[1] ? -v : v;
}

/** 125000n → "12.5000". */
export function fromUnits(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const s = a.toString().padStart(SCALE + 1, "0");
  return `${neg ? "-" : ""}${s.slice(0, -SCALE)}.${s.slice(-SCALE)}`;
}
