/**
 * Splits a CQL migration file into statements. A statement ends at a `;` that is outside a string literal
 * ('it''s'), a quoted identifier ("My Table"), a $$dollar string$$ and a comment (-- and // to the end of the line,
 * /* block *\/). Comments are dropped from the statements. Text after the last `;` that is not just comments and
 * whitespace is an error: a statement without its terminator usually means a truncated or half-edited file, and
 * applying the half that parses would be worse than refusing.
 */
export function splitCqlStatements(source: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  const n = source.length;
  const take = (end: number): void => {
    current += source.slice(i, end);
    i = end;
  };
  const closing = (open: number, quote: string): number => {
    // A doubled quote inside a string or identifier is an escaped quote, not the end.
    let j = open + 1;
    for (;;) {
      const k = source.indexOf(quote, j);
      if (k < 0) throw new Error(`Unterminated ${quote === "'" ? 'string' : 'quoted identifier'} at offset ${open}`);
      if (source[k + 1] === quote) j = k + 2;
      else return k + 1;
    }
  };
  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if ((c === '-' && next === '-') || (c === '/' && next === '/')) {
      const eol = source.indexOf('\n', i);
      i = eol < 0 ? n : eol;
      current += ' ';
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`Unterminated block comment at offset ${i}`);
      i = end + 2;
      current += ' ';
    } else if (c === "'" || c === '"') {
      take(closing(i, c));
    } else if (c === '$' && next === '$') {
      const end = source.indexOf('$$', i + 2);
      if (end < 0) throw new Error(`Unterminated $$ string at offset ${i}`);
      take(end + 2);
    } else if (c === ';') {
      const statement = current.trim();
      if (statement.length > 0) statements.push(statement);
      current = '';
      i += 1;
    } else {
      take(i + 1);
    }
  }
  if (current.trim().length > 0) {
    throw new Error(`The last statement is not terminated by ';': ${current.trim().slice(0, 60)}`);
  }
  return statements;
}
