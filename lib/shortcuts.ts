/** Two-key "go to" shortcuts: g then a letter. */
export const goKeys: Record<string, { href: string; label: string }> = {
  o: { href: '/', label: 'Overview' },
  m: { href: '/machines', label: 'Machines' },
  w: { href: '/workspace', label: 'Workspace' },
  s: { href: '/snapshots', label: 'Snapshots' },
  t: { href: '/steps', label: 'Steps' },
  i: { href: '/images', label: 'Images' },
  j: { href: '/jobs', label: 'Jobs' },
  ',': { href: '/settings', label: 'Settings' },
};

/** Every shortcut, for the help dialog (and the README). */
export const shortcutGroups: { title: string; items: { keys: string[]; what: string }[] }[] = [
  {
    title: 'Anywhere',
    items: [
      { keys: ['Ctrl', 'K'], what: 'Command palette: go to a page, machine or snapshot, run an action (⌘K on macOS; in a console Ctrl+K stays the shell\'s)' },
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
      { keys: ['←', '→'], what: 'Move between a machine page\'s tabs' },
      { keys: ['Esc'], what: 'Close a dialog or the palette' },
    ],
  },
];
