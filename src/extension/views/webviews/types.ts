/** Types shared by the webview panels and their vscode-free controllers. */

/** A trace (or any text) to show in a diff: a title, the text, and optional facts about it. */
export interface TraceText {
  title: string;
  text: string;
  meta?: Record<string, string | number | null>;
}

/** What the controllers ask the panel manager to do (open other views). */
export interface ViewActions {
  openRunView(runDir: string): void;
  openInspector(runDir: string, problemId: string, sampleId: string, line?: number | null): void;
  openTraceDiff(left: TraceText, right: TraceText): void;
  openInDiffEditor(left: TraceText, right: TraceText): Promise<void>;
}
