import { limitKeys, limitWords, type LimitKey, type Limits, type Usage } from './contracts/limits';

/** "3 of 5 machines", "1,024 MiB of no limit": one limit as people read it. */
export function usageText(k: LimitKey, used: number, max: number | null): string {
  const w = limitWords[k];
  return `${used.toLocaleString('en')}${w.unit} of ${max === null ? 'no limit' : `${max.toLocaleString('en')}${w.unit}`}`;
}

/** Every limit, named: for the CLI and the UI's lists. */
export function limitRows(limits: Limits, usage: Usage): { key: LimitKey; name: string; text: string; full: boolean }[] {
  return limitKeys.map((k) => ({
    key: k,
    name: limitWords[k].name,
    text: usageText(k, usage[k], limits[k]),
    full: limits[k] !== null && usage[k] >= limits[k]!,
  }));
}
