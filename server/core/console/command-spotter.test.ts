import { describe, expect, it } from 'vitest';
import { CommandSpotter } from './command-spotter';

describe('CommandSpotter', () => {
  it('gives a command typed at a prompt once its echoed line ends', () => {
    const s = new CommandSpotter();
    expect(s.output('booted\r\n/ # ')).toEqual([]);
    s.input('ls -la\r');
    expect(s.output('ls -la')).toEqual([]);
    expect(s.output('\r\nbin dev\r\n/ # ')).toEqual(['ls -la']);
  });

  it('takes the line as the shell echoed it: backspaces, tab completion, colours in the prompt', () => {
    const s = new CommandSpotter();
    s.output('\u001b[1;32muser@host\u001b[0m:~$ ');
    for (const k of ['c', 'a', 't', ' ', '/e', '\t']) {
      s.input(k);
      s.output(k === '\t' ? 'tc/' : k);
    }
    s.input('\u007f');
    s.output('\b\u001b[K');
    s.input('/hostname\r');
    expect(s.output('/hostname\r\nbox\r\n')).toEqual(['cat /etc/hostname']);
  });

  it('ignores output lines nobody typed, Enter on an empty prompt, and typing where no prompt is', () => {
    const s = new CommandSpotter();
    expect(s.output('price: 5 $ \r\ncost $ 6\r\n')).toEqual([]);
    s.output('/ # ');
    s.input('\r');
    expect(s.output('\r\n/ # ')).toEqual([]);
    s.output('\r\nPassword: ');
    s.input('secret\r');
    expect(s.output('\r\n')).toEqual([]);
  });

  it('a line cut by a program redrawing it (carriage return) still reads whole', () => {
    const s = new CommandSpotter();
    s.output('$ ');
    s.input('echo hi\r');
    expect(s.output('echo hi\r$ echo hi\r\nhi\r\n')).toEqual(['echo hi']);
  });

  it('a kernel message printed into the prompt line is cut out, before the typing, before the echo or inside it', () => {
    const kmsg = '[    7.120771] IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready\r\n';
    const before = new CommandSpotter();
    before.output('/ # ' + kmsg + '[    7.200000] random: crng init done\r\n');
    before.input('echo a\r');
    expect(before.output('echo a\r\na\r\n/ # ')).toEqual(['echo a']);
    const typed = new CommandSpotter();
    typed.output('/ # ');
    typed.input('echo tl-$((6*7))\n');
    expect(typed.output(kmsg)).toEqual([]);
    expect(typed.output('echo tl-$((6*7))\r\ntl-42\r\n/ # ')).toEqual(['echo tl-$((6*7))']);
    const inside = new CommandSpotter();
    inside.output('/ # ');
    inside.input('ec');
    inside.output('ec' + kmsg);
    inside.input('ho b\r');
    expect(inside.output('ho b\r\nb\r\n')).toEqual(['echo b']);
    // Kernel messages at no prompt stay output nobody typed.
    const none = new CommandSpotter();
    none.output('booting ' + kmsg);
    none.input('x\r');
    expect(none.output('x\r\n')).toEqual([]);
  });
});
