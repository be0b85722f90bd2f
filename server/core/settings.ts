import { defaultSettings, settingsSchema, type Settings, type SettingsPatch } from '@/lib/contracts/settings';
import type { Store } from '@/db/client';
import { readSettingRows, writeSetting } from '@/db/repo/settings';

/** Settings are few and read often (every console attach): kept in memory, written through. */
export class SettingsService {
  private current: Settings = defaultSettings;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<Settings> {
    const rows = await readSettingRows(this.store);
    const merged: Record<string, unknown> = { ...defaultSettings };
    for (const [k, v] of Object.entries(rows)) {
      // A value an older or newer version wrote that no longer parses falls back to the default.
      const field = settingsSchema.shape[k as keyof Settings];
      if (field?.safeParse(v).success) merged[k] = v;
    }
    this.current = settingsSchema.parse(merged);
    return this.current;
  }

  /** Called after each update. */
  onChange: (() => void) | null = null;

  get(): Settings {
    return this.current;
  }

  async update(patch: SettingsPatch): Promise<Settings> {
    const next = settingsSchema.parse({ ...this.current, ...patch });
    const now = this.now();
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) await writeSetting(this.store, k, v, now);
    this.current = next;
    this.onChange?.();
    return next;
  }
}
