import { hasRole, type Role } from './roles';

export interface PageLink {
  href: string;
  label: string;
  /** The letter after g that goes there. */
  key?: string;
  /** Who sees it: a member only the machines given to them (and their settings), an admin also the audit log and the host shell. */
  need: Role;
}

/** The dashboard's pages, in the sidebar's order: the sidebar, the palette and the g-shortcuts all read this list. */
export const pageLinks: PageLink[] = [
  { href: '/', label: 'Overview', key: 'o', need: 'viewer' },
  { href: '/machines', label: 'Machines', key: 'm', need: 'member' },
  { href: '/workspace', label: 'Workspace', key: 'w', need: 'viewer' },
  { href: '/snapshots', label: 'Snapshots', key: 's', need: 'viewer' },
  { href: '/steps', label: 'Steps', key: 't', need: 'viewer' },
  { href: '/images', label: 'Images', key: 'i', need: 'viewer' },
  { href: '/jobs', label: 'Jobs', key: 'j', need: 'viewer' },
  { href: '/settings', label: 'Settings', key: ',', need: 'member' },
  { href: '/nodes', label: 'Nodes', need: 'admin' },
  { href: '/audit', label: 'Audit log', need: 'admin' },
  { href: '/console', label: 'Host console', need: 'admin' },
];

/** The pages a role sees; before the role is known, all but the admin's. */
export const pagesFor = (role: Role | undefined): PageLink[] => pageLinks.filter((p) => (role ? hasRole(role, p.need) : p.need !== 'admin'));

/** Two-key "go to" shortcuts: g then a letter. */
export const goKeys: Record<string, PageLink> = Object.fromEntries(pageLinks.filter((p) => p.key).map((p) => [p.key!, p]));

/** Every shortcut, for the help dialog (and the README). */
export const shortcutGroups: { title: string; items: { keys: string[]; what: string }[] }[] = [
  {
    title: 'Anywhere',
    items: [
      { keys: ['Ctrl', 'K'], what: "Command palette: go to a page, machine or snapshot, run an action (⌘K on macOS; in a console Ctrl+K stays the shell's)" },
      { keys: ['?'], what: 'This list of shortcuts' },
      ...Object.entries(goKeys).map(([k, v]) => ({ keys: ['g', k], what: `Go to ${v.label}` })),
    ],
  },
  {
    title: 'Machines list',
    items: [
      { keys: ['/'], what: 'Search machines (words, or tag:x state:x driver:x image:x)' },
      { keys: ['n'], what: 'New machine' },
      { keys: ['Shift', 'click'], what: 'Select every machine between two checkboxes' },
    ],
  },
  {
    title: 'Consoles',
    items: [
      { keys: ['Ctrl', 'Shift', 'C'], what: 'Copy the selection (⌘C on macOS); selecting copies too' },
      { keys: ['Ctrl', 'Shift', 'V'], what: 'Paste (⌘V on macOS), asked first past 5 lines or 4 KiB' },
      { keys: ['Ctrl', 'Shift', 'F'], what: 'Find in the scrollback (⌘F on macOS)' },
    ],
  },
  {
    title: 'Tabs and dialogs',
    items: [
      { keys: ['←', '→'], what: "Move between a machine page's tabs" },
      { keys: ['Esc'], what: 'Close a dialog or the palette' },
    ],
  },
];
