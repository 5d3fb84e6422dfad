/**
 * A minimal terminal: printable characters, carriage return, newline and ESC[K (erase to the end of the line),
 * with auto-wrap at `columns` as terminals do. Returns the screen's rows and how many times a line wrapped.
 */
export function renderTerminal(output: string, columns: number): { rows: string[]; wraps: number } {
  const rows: string[][] = [[]];
  let [row, col, wraps] = [0, 0, 0];
  for (let i = 0; i < output.length; i++) {
    const ch = output[i];
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
      rows[row] ??= [];
    } else if (ch === '\x1b' && output.startsWith('\x1b[K', i)) {
      rows[row].length = Math.min(rows[row].length, col);
      i += 2;
    } else {
      if (col === columns) {
        wraps++;
        row++;
        col = 0;
        rows[row] ??= [];
      }
      rows[row][col++] = ch;
    }
  }
  return { rows: rows.map((r) => Array.from(r, (c) => c ?? ' ').join('')), wraps };
}
