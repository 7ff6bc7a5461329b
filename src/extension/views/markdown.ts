/** Markdown for hovers and tooltips built from untrusted text: no HTML, no command links, no theme icons. */
import * as vscode from 'vscode';
import { renderHoverMarkdown, type HoverTable } from '../services/annotate';

/** `md` must already be escaped (see escapeMarkdown / renderHoverMarkdown). */
export function safeMarkdown(md: string): vscode.MarkdownString {
  const m = new vscode.MarkdownString(md, false);
  m.isTrusted = false;
  m.supportHtml = false;
  return m;
}

export function hoverMarkdown(h: HoverTable): vscode.MarkdownString {
  return safeMarkdown(renderHoverMarkdown(h));
}
