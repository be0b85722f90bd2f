'use client';

import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Machine } from '@/lib/contracts/machines';
import { appliesTo, verbLabels, type MachineVerb } from '@/lib/machine-actions';
import { queries } from '@/lib/queries';
import { hasRole } from '@/lib/roles';
import { goKeys, pagesFor } from '@/lib/shortcuts';
import { api } from '@/components/ui/api';
import { CommandPalette, type Command } from '@/components/shell/command-palette';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { runVerb, verbQuestion } from '@/components/machines/machine-verb';
import { ShortcutsDialog } from '@/components/shell/shortcuts-dialog';
import { useToast } from '@/components/shell/toasts';

/** Opens the palette from anywhere (the sidebar's Search button). */
export const openPalette = () => window.dispatchEvent(new Event('hangar:palette'));

const PALETTE_VERBS: MachineVerb[] = ['start', 'stop', 'restart', 'pause', 'resume', 'checkpoint', 'force-stop', 'destroy'];

/** Typing in a field, or in a console (xterm's textarea): single-key shortcuts stay out of the way. */
function typing(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) || !!el.closest('.xterm'));
}

const toggleTheme = () => {
  const dark = !document.documentElement.classList.contains('dark');
  document.documentElement.classList.toggle('dark', dark);
  localStorage.setItem('hangar.theme', dark ? 'dark' : 'light');
};

/** The command palette (Ctrl/Cmd+K), the shortcuts help (?), and the single-key shortcuts of the dashboard. */
export function GlobalKeys() {
  const router = useRouter();
  const [open, setOpen] = useState<'palette' | 'help' | null>(null);
  const me = useQuery(queries(api).me()).data;
  const operator = !!me && hasRole(me.role, 'operator');
  const pendingG = useRef<number>(0);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // Ctrl+K in a console is the shell's kill-line: only Cmd+K (macOS) opens the palette from there.
      if (e.key.toLowerCase() === 'k' && (e.metaKey || (e.ctrlKey && !(e.target as HTMLElement | null)?.closest?.('.xterm'))) && !e.altKey && !e.shiftKey) {
        e.preventDefault();
        setOpen((o) => (o === 'palette' ? null : 'palette'));
        return;
      }
      if (open || typing(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '?') {
        e.preventDefault();
        setOpen('help');
      } else if (e.key === 'g') {
        pendingG.current = Date.now();
      } else if (Date.now() - pendingG.current < 1500 && goKeys[e.key]) {
        pendingG.current = 0;
        router.push(goKeys[e.key].href);
      } else if (e.key === '/') {
        const search = document.querySelector<HTMLInputElement>('[data-hotkey-search]');
        if (search) {
          e.preventDefault();
          search.focus();
        }
      } else if (e.key === 'n' && operator) {
        e.preventDefault();
        const button = document.querySelector<HTMLButtonElement>('[data-hotkey-new]');
        if (button) button.click();
        else router.push('/machines?new=1');
      }
    };
    const onOpen = () => setOpen('palette');
    window.addEventListener('keydown', onKey);
    window.addEventListener('hangar:palette', onOpen);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('hangar:palette', onOpen);
    };
  }, [open, router, operator]);

  if (open === 'palette') return <PaletteOfEverything onHelp={() => setOpen('help')} onClose={() => setOpen(null)} />;
  if (open === 'help') return <ShortcutsDialog onClose={() => setOpen(null)} />;
  return null;
}

/**
 * The palette with its commands: every page, machine, console, snapshot and action. Mounted only
 * while the palette is open: mounted always, it rebuilt its commands (several per machine) on every
 * change of any machine's state, which with 1,000 machines doubled the machines page's frame time.
 */
function PaletteOfEverything({ onHelp, onClose }: { onHelp: () => void; onClose: () => void }) {
  const router = useRouter();
  const toast = useToast();
  const confirm = useConfirm();
  const me = useQuery(queries(api).me()).data;
  const viewer = !!me && hasRole(me.role, 'viewer');
  const operator = !!me && hasRole(me.role, 'operator');
  const machines = useQuery(queries(api).machines()).data;
  const snapshots = useQuery({ ...queries(api).snapshots(), enabled: viewer }).data;

  const act = useCallback(
    async (verb: MachineVerb, m: Machine) => {
      const question = verbQuestion(verb, m);
      if (question && !(await confirm(question))) return;
      try {
        const job = await runVerb(verb, m.id);
        toast('info', `${job.title}: started`);
      } catch (err) {
        toast('error', err instanceof Error ? err.message : String(err));
      }
    },
    [confirm, toast],
  );

  const commands = useMemo<Command[]>(() => {
    const go = (href: string) => () => router.push(href);
    const pages = pagesFor(me?.role).map((p) => ({
      id: `page:${p.href}`,
      group: 'Page',
      label: p.label,
      hint: p.key ? `g ${p.key}` : undefined,
      run: go(p.href),
    }));
    const actions: Command[] = [
      ...(operator
        ? [{ id: 'new-machine', group: 'Action', label: 'New machine', hint: 'n', keywords: 'create vm container', run: go('/machines?new=1') }]
        : []),
      { id: 'theme', group: 'Action', label: 'Switch light / dark theme', keywords: 'dark mode', run: toggleTheme },
      { id: 'help', group: 'Action', label: 'Keyboard shortcuts', hint: '?', keywords: 'help keys', run: onHelp },
    ];
    const ms = (machines ?? []).flatMap((m) => [
      {
        id: `m:${m.id}`,
        group: 'Machine',
        label: m.name,
        hint: m.state,
        keywords: `${m.image} ${m.driver} ${m.tags.join(' ')}`,
        run: go(`/machines/${encodeURIComponent(m.name)}`),
      },
      ...(m.state === 'running'
        ? [
            {
              id: `c:${m.id}`,
              group: 'Console',
              label: `${m.name} console`,
              keywords: 'serial terminal',
              run: go(`/machines/${encodeURIComponent(m.name)}?tab=console`),
            },
          ]
        : []),
      ...(operator
        ? PALETTE_VERBS.filter((v) => appliesTo(v, m)).map((v) => ({
            id: `${v}:${m.id}`,
            group: 'Action',
            label: `${verbLabels[v]} ${m.name}`,
            run: () => void act(v, m),
          }))
        : []),
    ]);
    const snaps = (snapshots ?? [])
      .filter((s) => s.state === 'complete')
      .map((s) => ({
        id: `s:${s.id}`,
        group: 'Snapshot',
        label: `${s.label}${s.machineName ? ` (${s.machineName})` : ''}`,
        hint: s.kind,
        run: go(s.machineName ? `/machines/${encodeURIComponent(s.machineName)}?tab=snapshots` : '/snapshots'),
      }));
    return [...pages, ...actions, ...ms, ...snaps];
  }, [router, operator, me, machines, snapshots, act, onHelp]);

  return <CommandPalette commands={commands} onClose={onClose} />;
}
