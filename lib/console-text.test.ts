import { describe, expect, it } from 'vitest';
import { checkPaste, hueOf, initials, plainLog, scrollbackText } from './console-text';

describe('console text helpers', () => {
  it('asks before large or many-line pastes, not before a word or one command', () => {
    expect(checkPaste('ls -l').confirm).toBe(false);
    expect(checkPaste('echo hi\n').confirm).toBe(false);
    expect(checkPaste('a\nb\nc\n').lines).toBe(3);
    expect(checkPaste('a\nb\nc\n').confirm).toBe(false);
    const five = checkPaste('1\r\n2\r\n3\r\n4\r\n5');
    expect(five).toMatchObject({ lines: 5, confirm: true });
    expect(checkPaste(`${'x'.repeat(5000)}\ny`).confirm).toBe(true);
    expect(checkPaste('x'.repeat(5000)).confirm).toBe(false);
    expect(checkPaste('x'.repeat(20000)).confirm).toBe(true);
    expect(checkPaste('é'.repeat(10)).bytes).toBe(20);
    expect(checkPaste(Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n')).preview.split('\n')).toHaveLength(6);
  });

  it('turns a buffer into a text file without trailing blanks', () => {
    expect(scrollbackText(['$ ls   ', 'a  b', '', '   ', ''])).toBe('$ ls\na  b\n');
    expect(scrollbackText(['', ''])).toBe('');
  });

  it('makes initials and a stable colour for presence avatars', () => {
    expect(initials('ann')).toBe('AN');
    expect(initials('Bob Smith')).toBe('BS');
    expect(initials('link "ops team"')).toBe('OT');
    expect(initials('share link')).toBe('SL');
    expect(initials('')).toBe('?');
    expect(hueOf('ann')).toBe(hueOf('ann'));
    expect(hueOf('ann')).not.toBe(hueOf('bob'));
  });
});

describe('plainLog', () => {
  it('drops colours, cursor moves and titles, keeps the last redraw of a line, and turns CR LF into LF', () => {
    expect(plainLog('\x1b[1;32mOK\x1b[0m booted\r\n')).toBe('OK booted\n');
    expect(plainLog('\x1b]0;title\x07prompt# ')).toBe('prompt# ');
    expect(plainLog('progress 10%\rprogress 100%\n')).toBe('progress 100%\n');
    expect(plainLog('a\x00b\tc\x7f')).toBe('ab\tc');
  });
});
