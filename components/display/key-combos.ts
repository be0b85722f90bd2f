/** Key combinations a browser would keep for itself, sent to the machine from the Display tab's menu (X11 keysyms). */
export interface KeyCombo {
  label: string;
  keys: { sym: number; code: string }[];
}

const ctrl = { sym: 0xffe3, code: 'ControlLeft' };
const alt = { sym: 0xffe9, code: 'AltLeft' };
const fn = (n: number) => ({ sym: 0xffbe + n - 1, code: `F${n}` });

export const KEY_COMBOS: KeyCombo[] = [
  { label: 'Ctrl+Alt+Del', keys: [ctrl, alt, { sym: 0xffff, code: 'Delete' }] },
  { label: 'Ctrl+Alt+F1', keys: [ctrl, alt, fn(1)] },
  { label: 'Ctrl+Alt+F2', keys: [ctrl, alt, fn(2)] },
  { label: 'Ctrl+Alt+F7', keys: [ctrl, alt, fn(7)] },
  { label: 'Ctrl+Alt+Backspace', keys: [ctrl, alt, { sym: 0xff08, code: 'Backspace' }] },
  { label: 'Alt+Tab', keys: [alt, { sym: 0xff09, code: 'Tab' }] },
  { label: 'Alt+F4', keys: [alt, fn(4)] },
  { label: 'Escape', keys: [{ sym: 0xff1b, code: 'Escape' }] },
  { label: 'Super (Windows key)', keys: [{ sym: 0xffeb, code: 'MetaLeft' }] },
];

/** Press every key in order, then release them in reverse (as fingers would). */
export function sendCombo(rfb: { sendKey(sym: number, code: string | null, down?: boolean): void }, combo: KeyCombo): void {
  for (const k of combo.keys) rfb.sendKey(k.sym, k.code, true);
  for (const k of [...combo.keys].reverse()) rfb.sendKey(k.sym, k.code, false);
}
