/**
 * Quotes one word for a POSIX shell: single quotes keep everything literal, and a single quote
 * itself is written as '\'' (close, escaped quote, reopen).
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
