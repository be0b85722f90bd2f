/** A select's options from [label, value] pairs. */
export function Options({ options }: { options: readonly (readonly [string, number])[] }) {
  return options.map(([l, s]) => (
    <option key={s} value={s}>
      {l}
    </option>
  ));
}
