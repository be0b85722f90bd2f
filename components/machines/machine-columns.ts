/**
 * The machine list's columns, narrowest screen first (the table and its rows use the same
 * classes). The table lays out by these widths alone (table-fixed) and every row is one line,
 * long names cut short: rows are one height, so the list can render only those on screen, and
 * columns do not shift as other rows scroll in. The name takes what is left.
 */
export const columnClass = {
  select: 'w-9 pr-1 pl-3',
  name: 'px-3',
  state: 'w-[6.5rem] px-2',
  driver: 'hidden w-28 px-2 sm:table-cell',
  image: 'hidden w-28 px-2 md:table-cell',
  node: 'hidden w-24 px-2 lg:table-cell',
  cpu: 'hidden w-32 px-2 lg:table-cell',
  memory: 'hidden w-36 px-2 lg:table-cell',
  resources: 'hidden w-36 px-2 xl:table-cell',
  created: 'hidden w-24 px-2 2xl:table-cell',
} as const;
