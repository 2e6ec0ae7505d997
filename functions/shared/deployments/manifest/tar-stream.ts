/**
 * A tar archive (POSIX ustar, with a PAX header for paths ustar cannot hold) streamed from its
 * entries' sources: memory stays at one entry's stream buffer. Its exact size is known before a
 * byte is read, as a streamed upload needs. Only regular files, with their modes.
 */
export interface TarEntry {
  /** Relative, '/'-separated. */
  path: string;
  size: number;
  mode: number;
  open(): AsyncIterable<Uint8Array>;
}

const BLOCK = 512;
const encoder = new TextEncoder();

/** The archive's size in bytes. */
export function tarSize(entries: readonly TarEntry[]): number {
  return entries.reduce((sum, entry) => sum + headersOf(entry, 0).length + padded(entry.size), 0) + 2 * BLOCK;
}

export async function* tarStream(entries: readonly TarEntry[], mtimeSeconds: number): AsyncGenerator<Uint8Array> {
  for (const entry of entries) {
    yield headersOf(entry, mtimeSeconds);
    let sent = 0;
    for await (const chunk of entry.open()) {
      sent += chunk.length;
      yield chunk;
    }
    if (sent !== entry.size) throw new Error(`${entry.path}: its source gave ${sent} of the ${entry.size} bytes expected`);
    const padding = padded(entry.size) - entry.size;
    if (padding > 0) yield new Uint8Array(padding);
  }
  yield new Uint8Array(2 * BLOCK);
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** The entry's header block, preceded by a PAX header when its path does not fit ustar's fields. */
function headersOf(entry: TarEntry, mtimeSeconds: number): Uint8Array {
  const split = ustarSplit(entry.path);
  if (split) return header({ ...split, size: entry.size, mode: entry.mode, mtimeSeconds, type: '0' });
  const record = paxRecord('path', entry.path);
  const pax = header({ name: 'PaxHeader', prefix: '', size: record.length, mode: 0o644, mtimeSeconds, type: 'x' });
  const body = new Uint8Array(padded(record.length));
  body.set(record);
  const fallback = header({ name: asciiTail(entry.path), prefix: '', size: entry.size, mode: entry.mode, mtimeSeconds, type: '0' });
  return concat([pax, body, fallback]);
}

/** name (<= 100 bytes) and prefix (<= 155 bytes), split at a '/', for an ASCII path; undefined when impossible. */
function ustarSplit(path: string): { name: string; prefix: string } | undefined {
  if (!/^[\x20-\x7e]*$/.test(path)) return undefined;
  if (path.length <= 100) return { name: path, prefix: '' };
  for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { name, prefix };
  }
  return undefined;
}

/** "<length> path=<value>\n", the length counting itself. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = encoder.encode(` ${key}=${value}\n`);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return concat([encoder.encode(String(length)), body]);
}

function asciiTail(path: string): string {
  return path.replace(/[^\x20-\x7e]/g, '_').slice(-100);
}

interface HeaderFields {
  name: string;
  prefix: string;
  size: number;
  mode: number;
  mtimeSeconds: number;
  type: '0' | 'x';
}

function header(fields: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const text = (offset: number, length: number, value: string) => block.set(encoder.encode(value).subarray(0, length), offset);
  const octal = (offset: number, length: number, value: number) => text(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
  text(0, 100, fields.name);
  octal(100, 8, fields.mode & 0o7777);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, fields.size);
  octal(136, 12, fields.mtimeSeconds);
  text(148, 8, '        ');
  text(156, 1, fields.type);
  text(257, 8, 'ustar\u000000');
  text(345, 155, fields.prefix);
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  text(148, 8, `${checksum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
