/**
 * A whole-number bench setting from the environment: `fallback` when unset or empty, an error naming the
 * variable when it is not a whole number of at least `min` (a typo must not run a bench with NaN rounds).
 */
export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name}="${raw}": must be a ${min === 1 ? "positive whole number" : `whole number ≥ ${min}`}`);
  }
  return value;
}
