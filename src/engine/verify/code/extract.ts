/**
 * Pulling the program out of an LLM reply: fenced ```python blocks first (the
 * last one that defines something, preferring one that defines the expected
 * entry point), then other code-looking fenced blocks, then bare code. Handles
 * <think> sections, ~~~ fences, unterminated final fences (truncated replies),
 * CRLF and uniformly indented blocks.
 */

export interface ExtractOptions {
  /** Function (or class) the tests call; a block defining it is preferred. */
  entryPoint?: string | null;
}

interface Block {
  lang: string;
  code: string;
  index: number;
}

const PY_LANGS = new Set(['python', 'python3', 'py', 'py3', 'python2', 'ipython', 'pycon', 'sage']);
const OTHER_LANGS = new Set([
  'bash',
  'sh',
  'shell',
  'console',
  'zsh',
  'text',
  'txt',
  'plaintext',
  'output',
  'json',
  'yaml',
  'yml',
  'toml',
  'ini',
  'c',
  'cpp',
  'c++',
  'cc',
  'java',
  'javascript',
  'js',
  'ts',
  'typescript',
  'go',
  'rust',
  'rs',
  'kotlin',
  'swift',
  'ruby',
  'rb',
  'php',
  'csharp',
  'cs',
  'html',
  'xml',
  'css',
  'sql',
  'markdown',
  'md',
  'latex',
  'tex',
  'math',
  'diff',
  'input',
]);

const DEFINES = /^(?:[ \t]*@[\w.]+.*\n)*[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+\w+/m;
const CODE_LINE =
  /^(?:(?:async\s+)?def\s+\w+\s*\(|class\s+\w+|import\s+[\w.]+|from\s+[\w.]+\s+import\s|@[\w.]+|if\s+__name__\s*==|for\s+\w+(?:\s*,\s*\w+)*\s+in\s|while\s.+:\s*$|print\(|[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=[^=]|[A-Za-z_][\w.]*\(.*\)\s*$|#)/;

function normalise(code: string): string {
  let c = code.replace(/\r\n?/g, '\n');
  c = c.replace(/^(?:[ \t]*\n)+/, '').replace(/\s+$/, '');
  const lines = c.split('\n');
  const nonEmpty = lines.filter((l) => l.trim() !== '');
  // Dedent a uniformly space-indented block (never touch tabs: they may be significant).
  if (!nonEmpty.some((l) => /^ *\t/.test(l))) {
    const indents = nonEmpty.map((l) => /^ */.exec(l)![0].length);
    const min = indents.length ? Math.min(...indents) : 0;
    if (min > 0) c = lines.map((l) => l.slice(Math.min(min, /^ */.exec(l)![0].length))).join('\n');
  }
  return `${c}\n`;
}

function stripThinking(reply: string): string {
  // Drop closed <think>…</think> sections; if one is left open, keep what follows its last close.
  let r = reply.replace(/<think>[\s\S]*?<\/think>/gi, '\n');
  const lastClose = r.toLowerCase().lastIndexOf('</think>');
  if (lastClose >= 0) r = r.slice(lastClose + '</think>'.length);
  return r;
}

function fencedBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length) {
    const open = /^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/.exec(lines[i]!);
    if (!open) {
      i++;
      continue;
    }
    const fence = open[1]!;
    const lang = open[2]!.toLowerCase().replace(/^\{\.?|\}$/g, '');
    const body: string[] = [];
    let j = i + 1;
    let closed = false;
    for (; j < lines.length; j++) {
      const close = /^[ \t]*(`{3,}|~{3,})[ \t]*$/.exec(lines[j]!);
      if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length) {
        closed = true;
        break;
      }
      body.push(lines[j]!);
    }
    blocks.push({ lang, code: body.join('\n'), index: blocks.length });
    i = closed ? j + 1 : j;
  }
  return blocks;
}

function looksLikePython(code: string): boolean {
  const lines = code.split('\n').filter((l) => l.trim() !== '');
  if (!lines.length) return false;
  const codeish = lines.filter((l) => CODE_LINE.test(l.trim()) || /^\s/.test(l) || /[:)\]]\s*$/.test(l.trim()));
  return DEFINES.test(code) || codeish.length / lines.length >= 0.6;
}

function definesName(code: string, name: string): boolean {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^[ \\t]*(?:async[ \\t]+)?(?:def|class)[ \\t]+${esc}\\b`, 'm').test(code);
}

function onlyUsage(code: string): boolean {
  // Example/test snippets: no definitions, only asserts, prints, REPL lines and calls.
  const lines = code.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  return lines.length > 0 && lines.every((l) => /^\s*(assert\b|print\(|>>>|\.\.\.|[\w.]+\(.*\)\s*$)/.test(l));
}

function pick(blocks: Block[], opts: ExtractOptions): Block | null {
  if (!blocks.length) return null;
  const ep = opts.entryPoint ?? null;
  const last = <T>(xs: T[]): T | null => (xs.length ? xs[xs.length - 1]! : null);
  if (ep) {
    const withEp = blocks.filter(
      (b) =>
        definesName(b.code, ep) ||
        (ep !== 'Solution' && definesName(b.code, 'Solution') && new RegExp(`\\bdef[ \\t]+${ep}\\b`).test(b.code)),
    );
    const chosen = last(withEp);
    if (chosen) return chosen;
  }
  const defining = blocks.filter((b) => DEFINES.test(b.code));
  if (defining.length) return last(defining);
  const scripts = blocks.filter((b) => !onlyUsage(b.code));
  return last(scripts.length ? scripts : blocks);
}

function bareCode(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let start = lines.findIndex((l) => CODE_LINE.test(l.trim()) && !/^#\s/.test(l.trim()) && l.trim() !== '#');
  if (start < 0) return '';
  // Keep decorators/comments directly above the first code line.
  while (start > 0 && /^\s*(@|#)/.test(lines[start - 1]!)) start--;
  let end = lines.length;
  // Trailing prose: a non-indented line that does not look like code, after the code.
  for (let k = start + 1; k < lines.length; k++) {
    const l = lines[k]!;
    if (l.trim() === '' || /^\s/.test(l)) continue;
    if (
      CODE_LINE.test(l.trim()) ||
      /^(else|elif|except|finally|try|with|return|raise|pass|break|continue)\b/.test(l.trim()) ||
      /^[\])}]/.test(l)
    )
      continue;
    if (/^[A-Za-z][^=()]*[.:!?]?$/.test(l.trim()) && /\s/.test(l.trim())) {
      end = k;
      break;
    }
  }
  return lines.slice(start, end).join('\n');
}

/** The program in an LLM reply, or '' when there is none. */
export function extractProgram(reply: string, opts: ExtractOptions = {}): string {
  if (!reply) return '';
  const text = stripThinking(reply);
  const blocks = fencedBlocks(text);
  const py = blocks.filter((b) => PY_LANGS.has(b.lang));
  const unlabeled = blocks.filter((b) => b.lang === '' && looksLikePython(b.code));
  const unknown = blocks.filter((b) => b.lang !== '' && !PY_LANGS.has(b.lang) && !OTHER_LANGS.has(b.lang) && looksLikePython(b.code));
  const chosen = pick(py, opts) ?? pick(unlabeled, opts) ?? pick(unknown, opts);
  if (chosen) return normalise(chosen.code);
  if (blocks.length) {
    // Fences exist but none is Python-like: fall back to the text outside them.
    const outside = text.replace(/^[ \t]{0,3}(`{3,}|~{3,})[\s\S]*?(^[ \t]*\1[ \t]*$|$(?![\s\S]))/gm, '\n');
    const bare = bareCode(outside);
    return bare.trim() ? normalise(bare) : '';
  }
  const bare = bareCode(text);
  return bare.trim() ? normalise(bare) : '';
}
