/**
 * "Did you mean" for configuration keys and keywords: the closest known word by
 * edit distance (insertions, deletions, substitutions, adjacent transpositions),
 * ignoring case.
 *
 * @module
 */

function _distance(a: string, b: string): number {
  // Optimal string alignment distance, two rows back.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2]! + 1);
      }
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}

function _commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * The known word closest to `word`, when close enough to be a typo: at most one edit
 * for words up to 5 characters, a third of the length beyond; case differences are
 * free; an abbreviation of 3 or more characters (`warn` for `warning`) counts. Ties
 * go to the longer common prefix. `undefined` when none is close.
 */
export function _suggest(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  let bestP = -1;
  for (const k of known) {
    const lk = k.toLowerCase();
    const d = w.length >= 3 && lk.startsWith(w) ? 1 : _distance(w, lk);
    const p = _commonPrefix(w, lk);
    if (d < bestD || (d === bestD && p > bestP)) {
      best = k;
      bestD = d;
      bestP = p;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return bestD <= limit ? best : undefined;
}
