/**
 * Private helper of the status text: a plain fixed-width table.
 *
 * @module
 */

/**
 * Pads cells to column widths, two spaces between columns; columns flagged in
 * `right` are right-aligned. Trailing spaces are trimmed.
 */
export function _table(rows: readonly (readonly string[])[], right: readonly boolean[]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row.map((cell, i) => right[i] === true ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))
      .join("  ").trimEnd()
  );
}

/** Replaces control characters (escape sequences from a remote agent) with `?`. */
export function _clean(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}
