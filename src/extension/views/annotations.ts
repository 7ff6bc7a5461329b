/**
 * Inline annotations of groups, samples, events and verifier-result JSONL
 * files in the editor: end-of-line decorations, hovers, CodeLens actions and
 * warnings (diagnostics) for malformed lines. Lines are annotated lazily and
 * cached per document version; decorations and lenses of large files cover
 * the visible ranges only, and diagnostics of large files the lines seen.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunsModel } from '../services/runsModel';
import type { RmGroupScoreIndex } from '../services/rmGroupScores';
import { readSettings } from '../services/settings';
import { annotateLine, annotationKindFor, lensSpecs, type AnnotatedKind, type LineAnnotation, type Tone } from '../services/annotate';
import { hoverMarkdown } from './markdown';
import { safeLine } from '../../shared/safeText';

/** Files up to this many lines are annotated (and diagnosed) whole; larger ones around what is visible. */
const WHOLE_FILE_LINES = 3000;
/** Lines around the visible ranges annotated in large files. */
const MARGIN = 100;
/** Head of the file read to classify it. */
const HEAD_LINES = 60;
/**
 * VS Code shows no CodeLens in an editor its large-file optimizations cover
 * (`editor.largeFileOptimizations`, on by default: 20 MB or 300,000 lines),
 * and gives extensions no document at all over 50 MB. Groups files past
 * this get a fallback: a notification (once per file and session) and a
 * hover note leading to the streamed group pick of the palette commands,
 * which the file's explorer row also offers.
 */
export const LARGE_FILE_CHARS = 20 * 1024 * 1024;
export const LARGE_FILE_LINES = 300_000;
const LARGE_FILE_NOTE =
  'No CodeLens in files over 20 MB or 300,000 lines (VS Code\'s large-file optimizations): reach every group from the palette ("TraceLift: Diff Group vs Reference", "TraceLift: Measure Uplift") or this file\'s row in the Trace & Data Files view.';

const TONE_COLORS: Record<Tone, string> = {
  good: 'testing.iconPassed',
  bad: 'testing.iconFailed',
  neutral: 'editorCodeLens.foreground',
  warn: 'editorWarning.foreground',
  muted: 'editorCodeLens.foreground',
};

interface DocState {
  version: number;
  kind: AnnotatedKind | null;
  lines: Map<number, LineAnnotation | null>;
}

export const JSONL_SELECTOR: vscode.DocumentSelector = [{ language: 'jsonl' }, { pattern: '**/*.jsonl' }];

/** Past what VS Code's large-file optimizations cover (no CodeLens there). */
function isLarge(doc: vscode.TextDocument): boolean {
  return doc.lineCount >= LARGE_FILE_LINES || doc.offsetAt(doc.lineAt(doc.lineCount - 1).range.end) >= LARGE_FILE_CHARS;
}

function isCandidate(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'jsonl' || /\.jsonl$/i.test(doc.fileName);
}

export class AnnotationProvider implements vscode.HoverProvider, vscode.CodeLensProvider, vscode.Disposable {
  private readonly states = new Map<string, DocState>();
  private readonly decorationTypes: Record<Tone, vscode.TextEditorDecorationType>;
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('tracelift');
  private readonly lensEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private enabled = readSettings().annotationsEnabled;
  /** Large groups files whose fallback was offered this session. */
  private readonly offered = new Set<string>();

  constructor(
    private readonly runs: RunsModel,
    private readonly rmScores: RmGroupScoreIndex | null = null,
  ) {
    this.decorationTypes = Object.fromEntries(
      (Object.keys(TONE_COLORS) as Tone[]).map((tone) => [
        tone,
        vscode.window.createTextEditorDecorationType({
          after: {
            color: new vscode.ThemeColor(TONE_COLORS[tone]),
            margin: '0 0 0 2em',
            fontStyle: tone === 'muted' ? 'italic' : 'normal',
          },
          rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        }),
      ]),
    ) as Record<Tone, vscode.TextEditorDecorationType>;

    this.disposables.push(
      this.diagnostics,
      this.lensEmitter,
      ...Object.values(this.decorationTypes),
      vscode.languages.registerHoverProvider(JSONL_SELECTOR, this),
      vscode.languages.registerCodeLensProvider(JSONL_SELECTOR, this),
      vscode.window.onDidChangeVisibleTextEditors(() => this.renderVisible()),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.schedule(e.textEditor.document, 150)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, 300)),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        this.states.delete(doc.uri.toString());
        this.diagnostics.delete(doc.uri);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('tracelift.annotations')) return;
        this.enabled = readSettings().annotationsEnabled;
        this.states.clear();
        if (!this.enabled) this.diagnostics.clear();
        this.renderVisible();
      }),
      // New measurements change what groups records show.
      runs.onDidChange(() => this.refreshGroups()),
      // So do new RM scores (Score Groups File with RM…).
      ...(rmScores ? [rmScores.onDidChange(() => this.refreshGroups())] : []),
    );
    this.renderVisible();
  }

  private refreshGroups(): void {
    for (const [key, st] of this.states) if (st.kind === 'groups') this.states.delete(key);
    this.renderVisible();
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (!isCandidate(doc)) return;
    const key = doc.uri.toString();
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        for (const editor of vscode.window.visibleTextEditors) if (editor.document === doc) this.render(editor);
        this.lensEmitter.fire();
      }, delay),
    );
  }

  private renderVisible(): void {
    for (const editor of vscode.window.visibleTextEditors) this.render(editor);
    this.lensEmitter.fire();
  }

  private state(doc: vscode.TextDocument): DocState | null {
    if (!this.enabled || !isCandidate(doc)) return null;
    const key = doc.uri.toString();
    let st = this.states.get(key);
    if (!st || st.version !== doc.version) {
      const head = doc.getText(new vscode.Range(0, 0, Math.min(doc.lineCount, HEAD_LINES), 0));
      st = { version: doc.version, kind: annotationKindFor(head), lines: new Map() };
      this.states.set(key, st);
    }
    return st.kind ? st : null;
  }

  private annotation(doc: vscode.TextDocument, st: DocState, line: number): LineAnnotation | null {
    if (st.lines.has(line)) return st.lines.get(line)!;
    const text = doc.lineAt(line).text;
    // A file ending in a newline has an empty last line; text on the last line has no newline yet.
    const last = line === doc.lineCount - 1;
    const a = annotateLine(text, {
      kind: st.kind!,
      line,
      unterminatedTail: last && text.trim().length > 0,
      measured: st.kind === 'groups' && doc.uri.scheme === 'file' ? (pid) => this.runs.measured(doc.uri.fsPath, pid) : undefined,
      rmScored:
        st.kind === 'groups' && doc.uri.scheme === 'file' && this.rmScores
          ? (pid) => this.rmScores!.lookup(doc.uri.fsPath, pid)
          : undefined,
    });
    st.lines.set(line, a);
    return a;
  }

  /** Lines to annotate: the whole file when small, else the visible ranges with a margin. */
  private linesFor(doc: vscode.TextDocument): number[] {
    if (doc.lineCount <= WHOLE_FILE_LINES) return Array.from({ length: doc.lineCount }, (_, i) => i);
    const lines = new Set<number>();
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== doc) continue;
      for (const r of editor.visibleRanges) {
        for (let i = Math.max(0, r.start.line - MARGIN); i <= Math.min(doc.lineCount - 1, r.end.line + MARGIN); i++) lines.add(i);
      }
    }
    return [...lines].sort((a, b) => a - b);
  }

  private render(editor: vscode.TextEditor): void {
    const doc = editor.document;
    const st = this.state(doc);
    if (!st) {
      for (const t of Object.values(this.decorationTypes)) editor.setDecorations(t, []);
      if (isCandidate(doc)) this.diagnostics.delete(doc.uri);
      return;
    }
    const byTone = new Map<Tone, vscode.DecorationOptions[]>();
    for (const line of this.linesFor(doc)) {
      const a = this.annotation(doc, st, line);
      if (!a?.text) continue;
      const end = doc.lineAt(line).range.end;
      const list = byTone.get(a.tone) ?? [];
      list.push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: a.text } } });
      byTone.set(a.tone, list);
    }
    for (const [tone, type] of Object.entries(this.decorationTypes) as Array<[Tone, vscode.TextEditorDecorationType]>) {
      editor.setDecorations(type, byTone.get(tone) ?? []);
    }
    this.updateDiagnostics(doc, st);
    if (st.kind === 'groups' && isLarge(doc)) this.offerLargeFileFallback(doc);
  }

  /** A large groups file shows no CodeLens: say so once and lead to the streamed group pick. */
  private offerLargeFileFallback(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    if (this.offered.has(key)) return;
    this.offered.add(key);
    const actions = { 'Diff a Group…': 'tracelift.diffGroupVsReference', 'Measure Uplift…': 'tracelift.measureUplift' } as const;
    void vscode.window
      .showInformationMessage(
        `TraceLift: ${safeLine(path.basename(doc.fileName))} is a large groups file. ${LARGE_FILE_NOTE}`,
        ...Object.keys(actions),
      )
      .then((choice) => {
        if (choice) void vscode.commands.executeCommand(actions[choice as keyof typeof actions], doc.uri);
      });
  }

  /** Warnings for every malformed line annotated so far (all lines of files up to WHOLE_FILE_LINES). */
  private updateDiagnostics(doc: vscode.TextDocument, st: DocState): void {
    const out: vscode.Diagnostic[] = [];
    for (const [line, a] of st.lines) {
      if (!a?.issue || line >= doc.lineCount) continue;
      const d = new vscode.Diagnostic(
        doc.lineAt(line).range,
        `${safeLine(path.basename(doc.fileName))} line ${line + 1}: ${safeLine(a.issue.message, 500)}`,
        a.issue.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
      );
      d.source = 'TraceLift';
      out.push(d);
    }
    out.sort((a, b) => a.range.start.line - b.range.start.line);
    this.diagnostics.set(doc.uri, out);
  }

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | null {
    const st = this.state(doc);
    if (!st) return null;
    const a = this.annotation(doc, st, position.line);
    if (!a) return null;
    if (a.issue) return new vscode.Hover(hoverMarkdown({ title: 'Malformed line', rows: [], notes: [a.issue.message] }));
    if (!a.hover) return null;
    const large = st.kind === 'groups' && isLarge(doc);
    return new vscode.Hover(hoverMarkdown(large ? { ...a.hover, notes: [...a.hover.notes, LARGE_FILE_NOTE] } : a.hover));
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const st = this.state(doc);
    if (!st) return [];
    const lenses: vscode.CodeLens[] = [];
    const runDir = path.dirname(doc.uri.fsPath);
    for (const line of this.linesFor(doc)) {
      const a = this.annotation(doc, st, line);
      if (!a) continue;
      const range = doc.lineAt(line).range;
      const specs = lensSpecs(a, { file: doc.uri, line, runDir: doc.uri.scheme === 'file' ? runDir : null });
      for (const l of specs) lenses.push(new vscode.CodeLens(range, { title: l.title, command: l.command, arguments: l.args }));
    }
    return lenses;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}
