/**
 * The index behind the "Trace & Data Files" view: JSON / JSON Lines
 * files of the workspace classified by schema (detect.ts), with their counts
 * and malformed lines. Files are read asynchronously with a size cap (counts
 * of bigger files are lower bounds), cached by mtime and size, and re-read
 * when a FileSystemWatcher reports a change. Files inside the runs folder
 * are left to the Runs view.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as vscode from 'vscode';
import { runsFolders } from './settings';
import { detectText, type DataKind, type Detection } from './detect';

/** Bytes of (inflated) text read per file; the rest is not counted. */
const READ_CAP = 16 * 1024 * 1024;
const MAX_FILES = 2000;
const GLOB = '**/*.{jsonl,json,jsonl.gz,json.gz}';
const EXCLUDED_DIRS = ['node_modules', '.git', '.venv', 'venv', '.tox', 'dist', 'out', '.e2e', '__pycache__', '.vscode-test'];
const EXCLUDE = `**/{${EXCLUDED_DIRS.join(',')}}/**`;
const EXCLUDED_PATH = new RegExp(`[\\\\/](${EXCLUDED_DIRS.map((d) => d.replace(/\./g, '\\.')).join('|')})[\\\\/]`);

export interface DataFileEntry {
  uri: vscode.Uri;
  fsPath: string;
  /** Path relative to its workspace folder. */
  rel: string;
  detection: Detection;
  mtimeMs: number;
  size: number;
}

export type DataCategory = 'groups' | 'traces' | 'benchmark' | 'results';

export const CATEGORY_LABELS: Record<DataCategory, string> = {
  groups: 'Groups files',
  traces: 'Traces files',
  benchmark: 'Benchmark files',
  results: 'Run samples & results',
};

export function categoryOf(kind: DataKind): DataCategory | null {
  switch (kind) {
    case 'groups':
    case 'traces':
    case 'benchmark':
      return kind;
    case 'samples':
    case 'events':
    case 'verifyResults':
    case 'summary':
      return 'results';
    default:
      return null;
  }
}

/** Reads up to READ_CAP bytes of text (gunzipping *.gz); a capped read ends at the last complete line. */
export async function readCapped(file: string): Promise<{ text: string; capped: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  let capped = false;
  await new Promise<void>((resolve, reject) => {
    const raw = fs.createReadStream(file);
    const stream: NodeJS.ReadableStream = file.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
    const done = () => {
      raw.destroy();
      resolve();
    };
    raw.on('error', reject);
    stream.on('error', reject);
    stream.on('data', (chunk: Buffer) => {
      if (capped) return;
      chunks.push(chunk);
      total += chunk.length;
      if (total >= READ_CAP) {
        capped = true;
        done();
      }
    });
    stream.on('end', done);
  });
  let buf = Buffer.concat(chunks);
  if (capped) buf = buf.subarray(0, buf.lastIndexOf(0x0a) + 1);
  return { text: buf.toString('utf8'), capped };
}

export async function detectFile(file: string): Promise<Detection> {
  const { text, capped } = await readCapped(file);
  return detectText(text, file.replace(/\.gz$/i, ''), { capped });
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return !!rel && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export class DataFileIndex implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly files = new Map<string, DataFileEntry>();
  private readonly disposables: vscode.Disposable[] = [];
  private scanning: Promise<void> | null = null;
  private pending = new Set<string>();
  private pendingTimer: NodeJS.Timeout | undefined;
  scanned = false;

  constructor(private readonly log: (line: string) => void) {
    const watcher = vscode.workspace.createFileSystemWatcher(GLOB);
    const queue = (uri: vscode.Uri) => this.queue(uri.fsPath);
    this.disposables.push(
      watcher,
      watcher.onDidCreate(queue),
      watcher.onDidChange(queue),
      watcher.onDidDelete(queue),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.rescan()),
    );
    void this.rescan();
  }

  /** Resolves once the first workspace scan has finished. */
  ready(): Promise<void> {
    return this.scanning ?? Promise.resolve();
  }

  entries(kinds?: readonly DataKind[]): DataFileEntry[] {
    const all = [...this.files.values()].filter((e) => e.detection.kind !== 'unknown' && e.detection.kind !== 'runConfig');
    const picked = kinds ? all.filter((e) => kinds.includes(e.detection.kind)) : all;
    return picked.sort((a, b) => a.rel.localeCompare(b.rel));
  }

  get(fsPath: string): DataFileEntry | undefined {
    return this.files.get(path.resolve(fsPath));
  }

  /** The entry for a file, detecting it now when the index has not seen it (e.g. outside the workspace). */
  async entryFor(fsPath: string): Promise<DataFileEntry | undefined> {
    const abs = path.resolve(fsPath);
    return this.files.get(abs) ?? (await this.detectInto(abs));
  }

  rescan(): Promise<void> {
    this.scanning = (async () => {
      try {
        const uris = await vscode.workspace.findFiles(GLOB, EXCLUDE, MAX_FILES);
        const keep = new Set(uris.map((u) => path.resolve(u.fsPath)));
        for (const k of [...this.files.keys()]) if (!keep.has(k)) this.files.delete(k);
        for (const uri of uris) {
          await this.detectInto(path.resolve(uri.fsPath));
          await new Promise((r) => setImmediate(r)); // let the extension host breathe between files
        }
      } catch (err) {
        this.log(`scanning workspace data files: ${(err as Error).message}`);
      } finally {
        this.scanned = true;
        void vscode.commands.executeCommand('setContext', 'tracelift.hasGroupsFiles', this.entries(['groups']).length > 0);
        this.emitter.fire();
      }
    })();
    return this.scanning;
  }

  private queue(fsPath: string): void {
    if (EXCLUDED_PATH.test(fsPath)) return; // the watcher also sees node_modules & co.
    this.pending.add(path.resolve(fsPath));
    if (this.pendingTimer) clearTimeout(this.pendingTimer);
    this.pendingTimer = setTimeout(() => void this.flush(), 300);
  }

  private async flush(): Promise<void> {
    const files = [...this.pending];
    this.pending.clear();
    for (const f of files) {
      if (!fs.existsSync(f)) this.files.delete(f);
      else await this.detectInto(f);
    }
    void vscode.commands.executeCommand('setContext', 'tracelift.hasGroupsFiles', this.entries(['groups']).length > 0);
    this.emitter.fire();
  }

  private async detectInto(abs: string): Promise<DataFileEntry | undefined> {
    if (runsFolders().some((folder) => isInside(abs, folder))) return undefined;
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(abs);
    } catch {
      this.files.delete(abs);
      return undefined;
    }
    if (!stat.isFile()) return undefined;
    const cached = this.files.get(abs);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    const uri = vscode.Uri.file(abs);
    try {
      const detection = await detectFile(abs);
      const entry: DataFileEntry = {
        uri,
        fsPath: abs,
        rel: vscode.workspace.asRelativePath(uri, false),
        detection,
        mtimeMs: stat.mtimeMs,
        size: stat.size,
      };
      this.files.set(abs, entry);
      return entry;
    } catch (err) {
      this.log(`reading ${abs}: ${(err as Error).message}`);
      this.files.delete(abs);
      return undefined;
    }
  }

  dispose(): void {
    if (this.pendingTimer) clearTimeout(this.pendingTimer);
    for (const d of this.disposables) d.dispose();
    this.emitter.dispose();
  }
}
