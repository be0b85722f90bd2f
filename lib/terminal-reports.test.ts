import { describe, expect, it } from 'vitest';
import { isTerminalReport } from './terminal-reports';

describe('isTerminalReport', () => {
  it('knows cursor position, device attribute, status and colour replies', () => {
    for (const r of ['\x1b[27;15R', '\x1b[?1;2c', '\x1b[>0;276;0c', '\x1b[0n', '\x1b]11;rgb:0000/0000/0000\x1b\\', '\x1b[1;1R\x1b[2;5R'])
      expect(isTerminalReport(r)).toBe(true);
  });
  it('lets typing through, arrows and control keys included', () => {
    for (const k of ['a', 'cat /tmp/mark\r', '\x1b[A', '\x1b[1;5C', '\x03', '\x1bOP', '27;15R']) expect(isTerminalReport(k)).toBe(false);
  });
});
