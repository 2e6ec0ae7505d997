/**
 * The port an app really listens on, where that is cheap and reliable to tell: a port written
 * into the start command, a tool's own default port when it ignores PORT (Vite, uvicorn, ...),
 * or a hard-coded port in the server's entry file that never reads PORT.
 */
import { passesPortVariable, portNamedIn } from './command-text.ts';
import type { ProjectFiles } from './project-files.ts';

export interface SourcePort {
  /** The hard-coded port, when exactly one is found and the file does not read PORT. */
  port?: number;
  readsPortVariable: boolean;
  /** The file binds only to 127.0.0.1/localhost. */
  bindsLoopback: boolean;
}

/** Tools that ignore PORT and listen on their own default unless given a port. */
const TOOL_DEFAULT_PORTS: readonly (readonly [RegExp, number, string])[] = [
  [/\bvite\s+preview\b/, 4173, "Vite's preview server"],
  [/\bvite(?:\s+(?:dev|serve))?(?=\s|$|\s*[;&|])(?!\s+(?:build|preview|optimize))/, 5173, "Vite's dev server"],
  [/\bastro\s+(?:dev|preview|start)\b/, 4321, "Astro's server"],
  [/\bng\s+serve\b/, 4200, "Angular's dev server"],
  [/\bflask\b(?:\s+--app\s+\S+)?\s+run\b/, 5000, "Flask's development server"],
  [/\buvicorn\b/, 8000, 'uvicorn'],
  [/\bhttp\.server\b/, 8000, "Python's http.server"],
  [/\bmanage\.py\s+runserver\b/, 8000, "Django's runserver"],
  [/\bparcel\b(?!\s+build)/, 1234, "Parcel's dev server"],
  [/\b(?:http-server|live-server)\b/, 8080, 'http-server'],
  [/\bwebpack(?:-dev-server|\s+serve)\b/, 8080, "webpack's dev server"],
];

/** Servers that listen on PORT when it is set, as the plan always sets it. */
const TOOLS_HONOURING_PORT: readonly (readonly [RegExp, string])[] = [
  [/\bnext\s+(?:start|dev)\b/, '`next start`'],
  [/\bfastify\s+start\b/, '`fastify start`'],
  [/\bgunicorn\b/, 'gunicorn'],
  [/\breact-scripts\s+start\b/, '`react-scripts start`'],
  [/\b(?:remix|react-router)-serve\b/, 'the Remix / React Router server'],
];

/** The tool in the command that listens on PORT by itself, for the port's reason. */
export function toolHonouringPort(commandText: string): string | undefined {
  return TOOLS_HONOURING_PORT.find(([pattern]) => pattern.test(commandText))?.[1];
}

export interface CommandPort {
  port: number;
  reason: string;
}

/** The port a start command itself decides; undefined when it passes $PORT or names nothing. */
export function portOfCommand(commandText: string, commandLabel: string): CommandPort | undefined {
  const named = portNamedIn(commandText);
  if (named !== undefined) return { port: named, reason: `${commandLabel} names port ${named} (\`${commandText}\`)` };
  if (passesPortVariable(commandText)) return undefined;
  for (const [pattern, port, tool] of TOOL_DEFAULT_PORTS) {
    if (pattern.test(commandText)) {
      return { port, reason: `${commandLabel} runs ${tool}, which listens on ${port} when not given a port (\`${commandText}\`)` };
    }
  }
  return undefined;
}

/** Reads a JavaScript/TypeScript server file for a hard-coded listen port. */
export function javascriptSourcePort(source: string): SourcePort {
  const text = stripJavascriptComments(source);
  const readsPortVariable =
    /process\.env\.PORT\b|process\.env\[\s*['"`]PORT['"`]\s*\]|\benv\.PORT\b|Deno\.env\.get\(\s*['"]PORT['"]|\{[^}]*\bPORT\b[^}]*\}\s*=\s*(?:process\.)?env\b/.test(text);
  const bindsLoopback =
    /\.listen\(\s*[^,)]+,\s*['"`](?:127\.0\.0\.1|localhost)['"`]/.test(text) || /\b(?:host|hostname)\s*:\s*['"`](?:127\.0\.0\.1|localhost)['"`]/.test(text);
  if (readsPortVariable) return { readsPortVariable, bindsLoopback };
  const ports = new Set<number>();
  for (const pattern of [/\.listen\(\s*(\d{2,5})\b/g, /\b(?:listen|serve)\(\s*\{[^}]*?\bport\s*:\s*(\d{2,5})\b/g]) {
    for (const match of text.matchAll(pattern)) ports.add(Number(match[1]));
  }
  for (const match of text.matchAll(/\b(?:const|let|var)\s+(\w*port\w*)\s*(?::\s*\w+\s*)?=\s*(\d{2,5})\b/gi)) {
    const name = match[1] as string;
    if (new RegExp(`\\b(?:listen|serve)\\s*\\([^;]*\\b${name}\\b`).test(text)) ports.add(Number(match[2]));
  }
  return { port: ports.size === 1 ? [...ports][0] : undefined, readsPortVariable, bindsLoopback };
}

/** Reads a Python server file for a hard-coded listen port. */
export function pythonSourcePort(source: string): SourcePort {
  const text = source.replace(/#.*$/gm, '');
  const readsPortVariable = /environ(?:\.get)?\s*[[(]\s*['"]PORT['"]|getenv\(\s*['"]PORT['"]/.test(text);
  const bindsLoopback = /\bhost\s*=\s*['"](?:127\.0\.0\.1|localhost)['"]|\(\s*['"](?:127\.0\.0\.1|localhost)['"]\s*,/.test(text);
  if (readsPortVariable) return { readsPortVariable, bindsLoopback };
  const ports = new Set<number>();
  for (const match of text.matchAll(/\bport\s*=\s*(\d{2,5})\b/g)) ports.add(Number(match[1]));
  for (const match of text.matchAll(/\(\s*\(\s*['"][^'"]*['"]\s*,\s*(\d{2,5})\s*\)/g)) ports.add(Number(match[1]));
  for (const match of text.matchAll(/^(\w*port\w*)\s*=\s*(\d{2,5})\s*$/gim)) {
    const name = match[1] as string;
    if (new RegExp(`\\([^)]*\\b${name}\\b`).test(text)) ports.add(Number(match[2]));
  }
  if (ports.size === 0) {
    // The frameworks' own defaults when run() is given no port.
    if (/\bFlask\s*\(/.test(text) && /\.run\(/.test(text)) ports.add(5000);
    else if (/\buvicorn\.run\(/.test(text)) ports.add(8000);
  }
  return { port: ports.size === 1 ? [...ports][0] : undefined, readsPortVariable, bindsLoopback };
}

export interface EntryPort extends SourcePort {
  path: string;
}

/** The first of these entry files whose text says something about its port. */
export function entryFilePort(files: ProjectFiles, entryFiles: readonly string[], language: 'javascript' | 'python'): EntryPort | undefined {
  for (const path of entryFiles) {
    const text = files.text(path);
    if (text === undefined) continue;
    const found = language === 'python' ? pythonSourcePort(text) : javascriptSourcePort(text);
    if (found.readsPortVariable || found.port !== undefined || found.bindsLoopback) return { path, ...found };
  }
  return undefined;
}

/** Fastify's listen() binds 127.0.0.1 unless given a host (docs/real-apps-facts.md). */
export function fastifyListensOnLoopback(source: string): boolean {
  const text = stripJavascriptComments(source);
  return /\.listen\(/.test(text) && !/\bhost\s*:|['"`](?:0\.0\.0\.0|::)['"`]|process\.env\.HOST\b/.test(text);
}

function stripJavascriptComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}
